//! What a user reads and chooses: the in-app inbox, language and channel preferences, devices.

use kernel::Timestamp;
use uuid::Uuid;

use super::{NotificationError, Notifications, Result};
use crate::api::*;
use crate::domain::{self, Category, Channel};
use crate::store;

impl Notifications {
    pub async fn inbox(
        &self,
        user_id: Uuid,
        before: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<InAppMessage>> {
        Ok(store::inbox(&self.ctx.db, user_id, before, limit)
            .await?
            .into_iter()
            .map(in_app_view)
            .collect())
    }

    pub async fn unread(&self, user_id: Uuid) -> Result<i64> {
        Ok(store::unread_count(&self.ctx.db, user_id).await?)
    }

    pub async fn mark_read(&self, user_id: Uuid, id: Uuid) -> Result<InAppMessage> {
        store::mark_read(&self.ctx.db, user_id, id, Timestamp::now())
            .await?
            .map(in_app_view)
            .ok_or(NotificationError::NotFound)
    }

    pub async fn mark_all_read(&self, user_id: Uuid) -> Result<u64> {
        Ok(store::mark_all_read(&self.ctx.db, user_id, Timestamp::now()).await?)
    }

    pub async fn preferences(&self, user_id: Uuid) -> Result<Preferences> {
        let locale = store::locale_of(&self.ctx.db, user_id)
            .await?
            .unwrap_or_else(|| "en".to_owned());
        let stored = store::choices_of(&self.ctx.db, user_id).await?;
        let mut choices = Vec::new();
        for category in Category::SWITCHABLE {
            for channel in Channel::ALL {
                let enabled = stored
                    .iter()
                    .find(|(c, ch, _)| c == category.as_str() && ch == channel.as_str())
                    .map_or_else(
                        || domain::default_enabled(category, channel),
                        |(_, _, on)| *on,
                    );
                choices.push(ChannelChoice {
                    category,
                    channel,
                    enabled,
                });
            }
        }
        Ok(Preferences { locale, choices })
    }

    pub async fn update_preferences(
        &self,
        user_id: Uuid,
        update: UpdatePreferences,
    ) -> Result<Preferences> {
        if let Some(locale) = &update.locale {
            if !domain::valid_locale(locale) {
                return Err(NotificationError::Invalid(
                    "locale",
                    "must be en, km or id".into(),
                ));
            }
        }
        if update
            .choices
            .iter()
            .any(|c| c.category == Category::Security)
        {
            return Err(NotificationError::Invalid(
                "choices",
                "security messages cannot be switched off".into(),
            ));
        }
        let mut tx = self.ctx.db.begin().await?;
        if let Some(locale) = &update.locale {
            store::set_locale(&mut tx, user_id, locale, Timestamp::now()).await?;
        }
        for choice in &update.choices {
            store::set_choice(
                &mut tx,
                user_id,
                choice.category.as_str(),
                choice.channel.as_str(),
                choice.enabled,
            )
            .await?;
        }
        tx.commit().await?;
        self.preferences(user_id).await
    }

    pub async fn register_device(&self, user_id: Uuid, device: RegisterDevice) -> Result<()> {
        let token = device.token.trim();
        if token.is_empty() || token.len() > 4096 {
            return Err(NotificationError::Invalid(
                "token",
                "must be 1 to 4096 characters".into(),
            ));
        }
        if !matches!(device.platform.as_str(), "android" | "ios" | "web") {
            return Err(NotificationError::Invalid(
                "platform",
                "must be android, ios or web".into(),
            ));
        }
        store::register_device(
            &self.ctx.db,
            user_id,
            token,
            &device.platform,
            Timestamp::now(),
        )
        .await?;
        Ok(())
    }

    pub async fn remove_device(&self, user_id: Uuid, token: &str) -> Result<()> {
        match store::remove_device(&self.ctx.db, user_id, token).await? {
            0 => Err(NotificationError::NotFound),
            _ => Ok(()),
        }
    }
}

fn in_app_view(row: store::InboxRow) -> InAppMessage {
    InAppMessage {
        id: row.id,
        category: row.category,
        title: row.title,
        body: row.body,
        read: row.read_at.is_some(),
        read_at: row.read_at.map(Timestamp::from_millis),
        created_at: Timestamp::from_millis(row.created_at),
    }
}
