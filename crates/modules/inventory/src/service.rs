//! inventory's use cases: stock views and adjustments, reservations (reserve, confirm,
//! release, return, expire), and SKUs and locations learnt from other modules' events.

use std::collections::HashMap;
use std::sync::Arc;

use kernel::{Actor, ApiError, FieldError, MerchantPermission, Permission, Timestamp};
use platform::bus;
use platform::db::{is_check_violation, Tx};
use platform::Context;
use uuid::Uuid;

use crate::api::*;
use crate::domain::{self, Change, Step, StepOutcome};
use crate::store::{self, ItemRow, ReservationRow};

pub const SOURCE: &str = "inventory";
/// The threshold of a new SKU until its merchant sets one.
pub const DEFAULT_THRESHOLD: i64 = 5;
/// Attempts at one SKU when concurrent reservations keep taking the chosen location.
const RESERVE_ATTEMPTS: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("unknown SKU")]
    UnknownSku,
    #[error("reservation not found")]
    ReservationNotFound,
    #[error("not enough stock")]
    Insufficient(Vec<Shortage>),
    #[error("on hand cannot go below what is reserved")]
    BelowReserved { reserved: i64 },
    #[error("the reservation id was used for other lines")]
    Mismatch,
    #[error("reservation is {0:?}")]
    NotActive(ReservationStatus),
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    #[error("a concurrent change won")]
    Raced,
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("events: {0}")]
    Bus(#[from] platform::bus::BusError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<InventoryError> for ApiError {
    fn from(err: InventoryError) -> Self {
        match err {
            InventoryError::Invalid(errors) => ApiError::validation(errors),
            InventoryError::UnknownSku => {
                ApiError::not_found("sku_not_found", "No such SKU at this merchant")
            }
            InventoryError::ReservationNotFound => {
                ApiError::not_found("reservation_not_found", "No such reservation")
            }
            InventoryError::Insufficient(shortages) => ApiError::conflict(
                "insufficient_stock",
                "Not enough stock for every line; nothing was reserved",
            )
            .with_extension("shortages", serde_json::json!(shortages)),
            InventoryError::BelowReserved { reserved } => ApiError::conflict(
                "below_reserved",
                format!("On hand cannot go below the {reserved} units reserved"),
            )
            .with_extension("reserved", serde_json::json!(reserved)),
            InventoryError::Mismatch => ApiError::conflict(
                "reservation_mismatch",
                "This reservation id was already used for different lines",
            ),
            InventoryError::NotActive(status) => ApiError::conflict(
                "reservation_not_active",
                format!("The reservation is {}", status.as_str()),
            )
            .with_extension("currentStatus", serde_json::json!(status)),
            InventoryError::Forbidden(detail) => ApiError::forbidden(detail),
            InventoryError::Raced => ApiError::conflict(
                "concurrent_change",
                "The reservation changed concurrently; retry",
            ),
            InventoryError::Database(_) | InventoryError::Bus(_) | InventoryError::Corrupt(_) => {
                tracing::error!(error = %err, "inventory failure");
                ApiError::internal()
            }
        }
    }
}

type Result<T> = std::result::Result<T, InventoryError>;

fn invalid_one(field: &str, message: &str) -> InventoryError {
    InventoryError::Invalid(vec![FieldError {
        field: field.into(),
        message: message.into(),
    }])
}

/// The merchant an inventory request is about: the one named, or the actor's only merchant.
pub fn merchant_for(
    actor: &Actor,
    requested: Option<Uuid>,
    permission: MerchantPermission,
) -> std::result::Result<Uuid, ApiError> {
    if let Some(merchant_id) = requested {
        let admin_read =
            permission == MerchantPermission::ViewInternal && actor.can(Permission::AdminCatalog);
        if !admin_read {
            actor.require_staff(merchant_id, permission)?;
        }
        return Ok(merchant_id);
    }
    match actor.merchants_with(permission).as_slice() {
        [only] => Ok(*only),
        [] => Err(ApiError::forbidden(
            "You are not staff of a merchant that may do this",
        )),
        _ => Err(ApiError::validation_one(
            "merchantId",
            "is required: you are staff of several merchants",
        )),
    }
}

pub struct Inventory {
    pub ctx: Context,
    pub config: crate::config::InventoryConfig,
}

impl Inventory {
    pub fn new(ctx: Context) -> Arc<Self> {
        Arc::new(Self {
            config: ctx.config.section_or_default(),
            ctx,
        })
    }

    async fn item(&self, merchant_id: Uuid, sku: &str) -> Result<ItemRow> {
        store::item(&self.ctx.db, merchant_id, sku)
            .await?
            .ok_or(InventoryError::UnknownSku)
    }

    pub async fn level(&self, merchant_id: Uuid, sku: &str) -> Result<StockLevel> {
        let item = self.item(merchant_id, sku).await?;
        let rows = store::stock(&self.ctx.db, item.id).await?;
        let locations: Vec<LocationStock> = rows
            .into_iter()
            .map(|s| LocationStock {
                name: if s.location_id == merchant_id {
                    "Main".to_owned()
                } else {
                    s.name.unwrap_or_else(|| "Outlet".to_owned())
                },
                location_id: s.location_id,
                on_hand: s.on_hand,
                reserved: s.reserved,
                available: s.on_hand - s.reserved,
            })
            .collect();
        let on_hand = locations.iter().map(|l| l.on_hand).sum();
        let reserved = locations.iter().map(|l| l.reserved).sum();
        let available = on_hand - reserved;
        Ok(StockLevel {
            merchant_id,
            sku: item.sku,
            variant_id: item.variant_id,
            product_id: item.product_id,
            on_hand,
            reserved,
            available,
            low_stock_threshold: item.low_stock_threshold,
            low: available < item.low_stock_threshold,
            locations,
        })
    }

    pub async fn movements(
        &self,
        merchant_id: Uuid,
        sku: &str,
        after: Option<Uuid>,
        limit: u32,
    ) -> Result<Vec<Movement>> {
        let item = self.item(merchant_id, sku).await?;
        store::movements(&self.ctx.db, item.id, after, limit)
            .await?
            .into_iter()
            .map(|m| {
                Ok(Movement {
                    kind: MovementKind::parse(&m.kind)
                        .ok_or_else(|| InventoryError::Corrupt(m.kind.clone()))?,
                    id: m.id,
                    location_id: m.location_id,
                    on_hand_delta: m.on_hand_delta,
                    reserved_delta: m.reserved_delta,
                    on_hand_after: m.on_hand_after,
                    reserved_after: m.reserved_after,
                    reason: m.reason,
                    reference: m.reference,
                    actor_id: m.actor_id,
                    created_at: Timestamp::from_millis(m.created_at),
                })
            })
            .collect()
    }

    pub async fn alerts(&self, merchant_id: Option<Uuid>) -> Result<Vec<LowStockAlert>> {
        Ok(store::alerts(&self.ctx.db, merchant_id, 500)
            .await?
            .into_iter()
            .map(|a| LowStockAlert {
                merchant_id: a.merchant_id,
                sku: a.sku,
                available: a.available,
                low_stock_threshold: a.low_stock_threshold,
            })
            .collect())
    }

    /// Publishes `inventory.low` when `item` crossed under its threshold, and
    /// `inventory.stock_changed` when it sold out or came back.
    async fn watch_low(tx: &mut Tx, item: &ItemRow, before: (i64, i64), after: i64) -> Result<()> {
        if (before.0 > 0) != (after > 0) {
            bus::publish(
                tx,
                SOURCE,
                &StockChanged {
                    merchant_id: item.merchant_id,
                    sku: item.sku.clone(),
                    variant_id: item.variant_id,
                    in_stock: after > 0,
                },
            )
            .await?;
        }
        if domain::became_low(before, (after, item.low_stock_threshold)) {
            bus::publish(
                tx,
                SOURCE,
                &InventoryLow {
                    merchant_id: item.merchant_id,
                    sku: item.sku.clone(),
                    variant_id: item.variant_id,
                    available: after,
                    threshold: item.low_stock_threshold,
                },
            )
            .await?;
        }
        Ok(())
    }

    pub async fn change(
        &self,
        actor: &Actor,
        merchant_id: Uuid,
        sku: &str,
        change: StockChange,
    ) -> Result<StockLevel> {
        let kind = domain::validate_change(&change).map_err(InventoryError::Invalid)?;
        let now = Timestamp::now();
        let location = change.location_id.unwrap_or(merchant_id);
        let reason = change.reason.trim().to_owned();
        let mut tx = self.ctx.db.begin().await?;
        let mut item = store::item_in(&mut tx, merchant_id, sku)
            .await?
            .ok_or(InventoryError::UnknownSku)?;
        if location != merchant_id
            && !store::location_active(&mut tx, merchant_id, location).await?
        {
            return Err(invalid_one(
                "locationId",
                "is not a location of this merchant",
            ));
        }
        let before = (
            store::available(&mut tx, item.id).await?,
            item.low_stock_threshold,
        );
        if let Some(threshold) = change.low_stock_threshold {
            store::set_threshold(&mut tx, item.id, threshold, now).await?;
            item.low_stock_threshold = threshold;
        }
        if kind != Change::ThresholdOnly {
            let (on_hand, reserved) =
                store::stock_row_for_update(&mut tx, item.id, location, now).await?;
            let target = match kind {
                Change::Set(n) => n,
                Change::Adjust(d) => on_hand + d,
                Change::ThresholdOnly => on_hand,
            };
            if target < 0 {
                return Err(invalid_one("delta", "would make on hand negative"));
            }
            if target < reserved {
                return Err(InventoryError::BelowReserved { reserved });
            }
            let delta = target - on_hand;
            if delta != 0 {
                let after = store::shift(&mut tx, item.id, location, delta, 0, now).await?;
                store::movement(
                    &mut tx,
                    item.id,
                    location,
                    MovementKind::Adjustment.as_str(),
                    (delta, 0),
                    after,
                    Some(&reason),
                    None,
                    Some(actor.user_id),
                    now,
                )
                .await?;
            }
        }
        let after = store::available(&mut tx, item.id).await?;
        Self::watch_low(&mut tx, &item, before, after).await?;
        self.ctx.commit(tx).await?;
        self.level(merchant_id, sku).await
    }

    async fn reservation(tx: &mut Tx, row: &ReservationRow) -> Result<Reservation> {
        let lines = store::lines(tx, row.id).await?;
        Ok(Reservation {
            id: row.id,
            reference: row.reference.clone(),
            status: ReservationStatus::parse(&row.status)
                .ok_or_else(|| InventoryError::Corrupt(row.status.clone()))?,
            expires_at: Timestamp::from_millis(row.expires_at),
            lines: lines
                .into_iter()
                .map(|l| ReservedLine {
                    merchant_id: l.merchant_id,
                    sku: l.sku,
                    location_id: l.location_id,
                    quantity: l.quantity,
                })
                .collect(),
        })
    }

    /// Reserves every line or none. Idempotent by reservation id.
    pub async fn reserve(&self, request: ReserveRequest) -> Result<Reservation> {
        let totals = domain::aggregate(&request.lines).map_err(InventoryError::Invalid)?;
        let ttl = request
            .ttl_seconds
            .unwrap_or(self.config.reservation_ttl_secs);
        if !(1..=7 * 24 * 3600).contains(&ttl) {
            return Err(invalid_one("ttlSeconds", "must be 1 second to 7 days"));
        }
        let canonical = serde_json::to_string(
            &totals
                .iter()
                .map(|((m, s), q)| (m, s, q))
                .collect::<Vec<_>>(),
        )
        .map_err(|e| InventoryError::Corrupt(e.to_string()))?;
        let now = Timestamp::now();
        let row = ReservationRow {
            id: request.reservation_id,
            reference: request.reference,
            status: ReservationStatus::Active.as_str().to_owned(),
            request: canonical,
            expires_at: now.plus_seconds(ttl).millis(),
        };
        let mut tx = self.ctx.db.begin().await?;
        if !store::insert_reservation(&mut tx, &row, now).await? {
            // A retry: same lines get the stored answer.
            let existing = store::reservation_in(&mut tx, row.id)
                .await?
                .ok_or(InventoryError::ReservationNotFound)?;
            if existing.request != row.request {
                return Err(InventoryError::Mismatch);
            }
            return Self::reservation(&mut tx, &existing).await;
        }
        let mut shortages = Vec::new();
        let mut lines = Vec::new();
        for ((merchant_id, sku), quantity) in &totals {
            let Some(item) = store::item_in(&mut tx, *merchant_id, sku).await? else {
                shortages.push(Shortage {
                    merchant_id: *merchant_id,
                    sku: sku.clone(),
                    requested: *quantity,
                    available: 0,
                });
                continue;
            };
            let mut taken = None;
            for _ in 0..RESERVE_ATTEMPTS {
                taken =
                    store::reserve_at_any(&mut tx, item.id, *merchant_id, *quantity, now).await?;
                if taken.is_some() || store::best_available(&mut tx, item.id).await? < *quantity {
                    break;
                }
            }
            match taken {
                Some((location, on_hand, reserved)) => {
                    store::insert_line(&mut tx, row.id, item.id, location, *quantity).await?;
                    store::movement(
                        &mut tx,
                        item.id,
                        location,
                        MovementKind::Reservation.as_str(),
                        (0, *quantity),
                        (on_hand, reserved),
                        None,
                        Some(&row.id.to_string()),
                        None,
                        now,
                    )
                    .await?;
                    if shortages.is_empty() {
                        // Only worth a query while the reservation can still succeed.
                        let after = store::available(&mut tx, item.id).await?;
                        Self::watch_low(
                            &mut tx,
                            &item,
                            (after + quantity, item.low_stock_threshold),
                            after,
                        )
                        .await?;
                    }
                    lines.push(ReservedLine {
                        merchant_id: *merchant_id,
                        sku: sku.clone(),
                        location_id: location,
                        quantity: *quantity,
                    });
                }
                None => shortages.push(Shortage {
                    merchant_id: *merchant_id,
                    sku: sku.clone(),
                    requested: *quantity,
                    available: store::best_available(&mut tx, item.id).await?,
                }),
            }
        }
        if !shortages.is_empty() {
            tx.rollback().await?;
            return Err(InventoryError::Insufficient(shortages));
        }
        let reservation = Reservation {
            id: row.id,
            reference: row.reference,
            status: ReservationStatus::Active,
            expires_at: Timestamp::from_millis(row.expires_at),
            lines,
        };
        self.ctx.commit(tx).await?;
        Ok(reservation)
    }

    /// What each SKU could give one line now.
    pub async fn availability(&self, items: Vec<SkuRef>) -> Result<Vec<Availability>> {
        if items.len() > 200 {
            return Err(invalid_one("items", "at most 200 SKUs per query"));
        }
        let keys: Vec<(Uuid, String)> = items
            .iter()
            .map(|i| (i.merchant_id, i.sku.clone()))
            .collect();
        let known: HashMap<(Uuid, String), i64> = store::best_available_of(&self.ctx.db, &keys)
            .await?
            .into_iter()
            .map(|(merchant_id, sku, available)| ((merchant_id, sku), available))
            .collect();
        Ok(items
            .into_iter()
            .map(|item| {
                let best = known.get(&(item.merchant_id, item.sku.clone())).copied();
                Availability {
                    merchant_id: item.merchant_id,
                    sku: item.sku,
                    known: best.is_some(),
                    available: best.unwrap_or(0),
                }
            })
            .collect())
    }

    /// Confirm, release, return or expire a reservation (each idempotent).
    pub async fn step(&self, id: Uuid, step: Step) -> Result<Reservation> {
        let mut tx = self.ctx.db.begin().await?;
        match self.step_in(&mut tx, id, step).await {
            Ok(reservation) => {
                self.ctx.commit(tx).await?;
                Ok(reservation)
            }
            Err(InventoryError::Raced) => {
                // A concurrent step won: answer from its result.
                drop(tx);
                Box::pin(self.step(id, step)).await
            }
            Err(err) => Err(err),
        }
    }

    /// A step in the caller's transaction (an event handler's, so the effect and the inbox
    /// record commit together).
    pub async fn step_in(&self, tx: &mut Tx, id: Uuid, step: Step) -> Result<Reservation> {
        let now = Timestamp::now();
        let tx = &mut *tx;
        let mut row = store::reservation_in(tx, id)
            .await?
            .ok_or(InventoryError::ReservationNotFound)?;
        let status = ReservationStatus::parse(&row.status)
            .ok_or_else(|| InventoryError::Corrupt(row.status.clone()))?;
        let to = match step.from(status) {
            StepOutcome::AlreadyDone => return Self::reservation(tx, &row).await,
            StepOutcome::Refused => return Err(InventoryError::NotActive(status)),
            StepOutcome::Apply(to) => to,
        };
        if !store::set_reservation_status(tx, id, status.as_str(), to.as_str(), now).await? {
            return Err(InventoryError::Raced);
        }
        let (kind, on_hand_sign, reserved_sign) = match step {
            Step::Confirm => (MovementKind::Sale, -1, -1),
            Step::Release | Step::Expire => (MovementKind::Release, 0, -1),
            Step::Return => (MovementKind::Return, 1, 0),
        };
        let reference = id.to_string();
        for line in store::lines(tx, id).await? {
            let deltas = (on_hand_sign * line.quantity, reserved_sign * line.quantity);
            let before = (
                store::available(tx, line.item_id).await?,
                line.low_stock_threshold,
            );
            let after =
                match store::shift(tx, line.item_id, line.location_id, deltas.0, deltas.1, now)
                    .await
                {
                    Ok(after) => after,
                    Err(err) if is_check_violation(&err) => {
                        return Err(InventoryError::Corrupt(format!(
                            "stock of {} would go negative",
                            line.sku
                        )))
                    }
                    Err(err) => return Err(err.into()),
                };
            let reason = (step == Step::Expire).then_some("reservation expired");
            store::movement(
                tx,
                line.item_id,
                line.location_id,
                kind.as_str(),
                deltas,
                after,
                reason,
                Some(&reference),
                None,
                now,
            )
            .await?;
            let item = ItemRow {
                id: line.item_id,
                merchant_id: line.merchant_id,
                sku: line.sku,
                variant_id: line.variant_id,
                product_id: Uuid::nil(),
                low_stock_threshold: line.low_stock_threshold,
            };
            let available = store::available(tx, line.item_id).await?;
            Self::watch_low(tx, &item, before, available).await?;
        }
        row.status = to.as_str().to_owned();
        Self::reservation(tx, &row).await
    }

    /// Releases reservations past their expiry; returns how many.
    pub async fn expire_due(&self) -> Result<usize> {
        let due = store::expired_reservations(&self.ctx.db, Timestamp::now(), 500).await?;
        for id in &due {
            self.step(*id, Step::Expire).await?;
        }
        Ok(due.len())
    }

    pub async fn register_skus(
        &self,
        tx: &mut Tx,
        merchant_id: Uuid,
        product_id: Uuid,
        variants: &[(Uuid, String)],
    ) -> Result<()> {
        let now = Timestamp::now();
        for (variant_id, sku) in variants {
            store::upsert_item(
                tx,
                merchant_id,
                sku,
                *variant_id,
                product_id,
                DEFAULT_THRESHOLD,
                now,
            )
            .await?;
        }
        Ok(())
    }

    pub async fn location_saved(
        &self,
        tx: &mut Tx,
        merchant_id: Uuid,
        id: Uuid,
        name: &str,
    ) -> Result<()> {
        store::upsert_location(tx, id, merchant_id, name, true, Timestamp::now()).await?;
        Ok(())
    }

    pub async fn location_removed(&self, tx: &mut Tx, id: Uuid) -> Result<()> {
        store::deactivate_location(tx, id, Timestamp::now()).await?;
        Ok(())
    }
}
