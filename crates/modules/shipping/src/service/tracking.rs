//! Courier reports: signed webhooks verified on the raw body and applied once per courier
//! event id, forward only; and the simulator courier, which reports the next step on request.

use platform::bus;
use platform::http::json;

use super::shipments::{fact, status_of};
use super::*;
use crate::domain::tracking::{self, SignatureError};
use crate::domain::SIMULATOR;
use crate::store::TrackingRow;

const EVENT_ID_MAX: usize = 200;
const LOCATION_MAX: usize = 200;
const DESCRIPTION_MAX: usize = 500;

/// Who reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Courier,
    Simulator,
}

impl Source {
    const fn as_str(self) -> &'static str {
        match self {
            Source::Courier => "courier",
            Source::Simulator => "simulator",
        }
    }
}

fn check_text(at: &str, value: Option<&str>, max: usize, errors: &mut Vec<FieldError>) {
    if value.is_some_and(|v| v.chars().count() > max || v.chars().any(char::is_control)) {
        errors.push(field(
            at,
            &format!("must be at most {max} printable characters"),
        ));
    }
}

impl Shipping {
    /// `POST /api/v1/shipping/webhook/{courier}`: the signature is checked on the raw body
    /// before anything is read from it.
    pub async fn webhook(
        &self,
        courier: &str,
        signature: Option<&str>,
        body: &[u8],
    ) -> Result<TrackingAck> {
        let book = self.book().await?;
        let code = book
            .iter()
            .find(|c| c.code.eq_ignore_ascii_case(courier))
            .map(|c| c.code.clone())
            .ok_or(ShippingError::CourierNotFound)?;
        let secret = self
            .config
            .webhook_secrets
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(&code))
            .map(|(_, secret)| secret.as_str())
            .filter(|secret| !secret.is_empty())
            .ok_or(ShippingError::WebhooksNotConfigured)?;
        let now_secs = Timestamp::now().seconds();
        tracking::verify_signature(
            secret,
            signature,
            body,
            now_secs,
            self.config.webhook_tolerance_secs,
        )
        .map_err(|e| match e {
            SignatureError::Invalid => ShippingError::InvalidSignature,
            SignatureError::Stale => ShippingError::StaleSignature,
        })?;
        let update: CourierUpdate = json::parse(body)?;
        let mut errors = Vec::new();
        if update.event_id.trim().is_empty() {
            errors.push(field("eventId", "must not be empty"));
        }
        check_text("eventId", Some(&update.event_id), EVENT_ID_MAX, &mut errors);
        if update.tracking_number.trim().is_empty() {
            errors.push(field("trackingNumber", "must not be empty"));
        }
        check_text(
            "trackingNumber",
            Some(&update.tracking_number),
            tracking::TRACKING_MAX,
            &mut errors,
        );
        check_text(
            "location",
            update.location.as_deref(),
            LOCATION_MAX,
            &mut errors,
        );
        check_text(
            "description",
            update.description.as_deref(),
            DESCRIPTION_MAX,
            &mut errors,
        );
        let horizon = Timestamp::now().plus_seconds(self.config.webhook_tolerance_secs.max(0));
        if update.occurred_at > horizon {
            errors.push(field("occurredAt", "is in the future"));
        }
        if !errors.is_empty() {
            return Err(ShippingError::Invalid(errors));
        }
        let outcome = self.apply(&code, &update, Source::Courier).await?;
        Ok(TrackingAck { outcome })
    }

    /// Applies a verified report in one transaction: claimed once per (courier, event id),
    /// kept in the timeline, and moving the shipment only forward. Returns the outcome.
    pub(crate) async fn apply(
        &self,
        courier: &str,
        update: &CourierUpdate,
        source: Source,
    ) -> Result<String> {
        let book = self.book().await?;
        let now = now();
        let mut tx = self.ctx.db.begin().await?;
        if !store::claim_report(&mut tx, courier, &update.event_id, now).await? {
            return Ok("duplicate".into());
        }
        let tracking_number = update.tracking_number.trim();
        let Some(row) = store::take_by_tracking(&mut tx, courier, tracking_number).await? else {
            store::settle_report(&mut tx, courier, &update.event_id, None, "unknown_shipment")
                .await?;
            tx.commit().await?;
            return Ok("unknown_shipment".into());
        };
        let current = status_of(&row.status)?;
        let at = update.occurred_at;
        let moves = current.advances_to(Timestamp::from_millis(row.status_at), update.status, at);
        let location = update
            .location
            .as_deref()
            .map(str::trim)
            .filter(|l| !l.is_empty());
        store::insert_tracking(
            &mut tx,
            &TrackingRow {
                id: kernel::new_id(),
                shipment_id: row.id,
                status: update.status.as_str().to_owned(),
                occurred_at: at.millis(),
                received_at: now,
                location: location.map(str::to_owned),
                description: update
                    .description
                    .as_deref()
                    .map(str::trim)
                    .filter(|d| !d.is_empty())
                    .map(str::to_owned),
                applied: moves,
                source: source.as_str().into(),
            },
        )
        .await?;
        let outcome = if moves { "applied" } else { "recorded" };
        if moves {
            let delivered = (update.status == ShipmentStatus::Delivered).then_some(at.millis());
            store::move_shipment(
                &mut tx,
                row.id,
                update.status.as_str(),
                at.millis(),
                delivered,
                now,
            )
            .await?;
            let mut moved = row.clone();
            moved.status = update.status.as_str().to_owned();
            moved.status_at = at.millis();
            let fact = fact(&moved, &book, Some(current), location)?;
            bus::publish(&mut tx, SOURCE, &ShipmentUpdated(fact.clone())).await?;
            if update.status == ShipmentStatus::Delivered {
                bus::publish(&mut tx, SOURCE, &ShipmentDelivered(fact)).await?;
            }
        }
        store::settle_report(&mut tx, courier, &update.event_id, Some(row.id), outcome).await?;
        self.ctx.commit(tx).await?;
        Ok(outcome.into())
    }

    /// The simulator courier reports the shipment's next step (or `to`), as a courier's
    /// webhook would. Development only (`shipping.simulator.enabled`).
    pub async fn advance(&self, id: Uuid, to: Option<ShipmentStatus>) -> Result<Shipment> {
        let row = store::shipment(&self.ctx.db, id)
            .await?
            .ok_or(ShippingError::ShipmentNotFound)?;
        if row.courier_code != SIMULATOR {
            return Err(ShippingError::NotSimulated);
        }
        let current = status_of(&row.status)?;
        if current.is_final() {
            return Err(ShippingError::Finished);
        }
        let now = Timestamp::now();
        let next = match to {
            Some(next) => next,
            None => current.next_step().ok_or(ShippingError::Finished)?,
        };
        // Reported a millisecond after the current status at least, so an attempt right
        // after a failed one (same stage) is newer even on a fast machine.
        let at = now.max(Timestamp::from_millis(row.status_at + 1));
        if !current.advances_to(Timestamp::from_millis(row.status_at), next, at) {
            return Err(invalid("to", "does not move the shipment forward"));
        }
        let update = CourierUpdate {
            event_id: format!("sim-{}", kernel::new_id()),
            tracking_number: row.tracking_number.clone(),
            status: next,
            occurred_at: at,
            location: Some("Simulator hub".into()),
            description: Some(format!("Simulated: {}", next.as_str())),
        };
        self.apply(SIMULATOR, &update, Source::Simulator).await?;
        let row = store::shipment(&self.ctx.db, id)
            .await?
            .ok_or(ShippingError::ShipmentNotFound)?;
        self.view(&row).await
    }
}
