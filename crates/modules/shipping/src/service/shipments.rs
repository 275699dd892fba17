//! Shipments: created once per order when orders says it was shipped (`order.shipped`), and
//! read by the order's customer, the merchant's staff and admins (anyone else: 404).

use std::collections::HashMap;

use catalog_contract::{ProductType, VariantQuote};
use merchants_contract::ShippingOrigin;
use orders_contract::OrderFact;
use platform::bus;
use platform::db::Tx;

use super::rates::parcel_weight;
use super::*;
use crate::domain::{self, tracking};
use crate::store::TrackingRow;

/// Tracking numbers are drawn again this often when the drawn one is taken.
const TRACKING_ATTEMPTS: usize = 5;
/// The prefix of tracking numbers of a courier that is not in the rate book.
const FALLBACK_PREFIX: &str = "PSR";

/// How an order travels, from its shipping line or, for an order without one, as guessed.
struct Plan {
    courier: String,
    service: ServiceLevel,
    recipient: Option<ShippingAddress>,
    amount: Option<i64>,
    chargeable_weight_grams: Option<i64>,
    currency: Option<Currency>,
}

fn sender_of(origin: Option<&ShippingOrigin>, merchant_id: Uuid) -> ShipmentSender {
    match origin {
        Some(o) => ShipmentSender {
            name: o.business_name.clone(),
            phone: Some(o.contact_phone.clone()).filter(|p| !p.is_empty()),
            street: match &o.address.line2 {
                Some(line2) if !line2.trim().is_empty() => {
                    format!("{}, {}", o.address.line1, line2)
                }
                _ => o.address.line1.clone(),
            },
            city: o.address.city.clone(),
            province: o.address.province.clone(),
            postal_code: o.address.postal_code.clone(),
            country: o.address.country.clone(),
        },
        None => {
            tracing::warn!(merchant = %merchant_id, "shipment of an unknown merchant");
            ShipmentSender {
                name: format!("Merchant {merchant_id}"),
                phone: None,
                street: String::new(),
                city: String::new(),
                province: None,
                postal_code: None,
                country: String::new(),
            }
        }
    }
}

fn to_json(value: &impl serde::Serialize) -> Result<String> {
    serde_json::to_string(value).map_err(|e| ShippingError::Corrupt(e.to_string()))
}

/// A fresh tracking number of a courier (random digits, check digit).
fn new_tracking(prefix: &str) -> String {
    tracking::tracking_number(prefix, Uuid::new_v4().as_u128() as u64)
}

impl Shipping {
    /// The merchant marked the order SHIPPED: its shipment is created with the tracking number
    /// given, or one the courier's adapter generates. Idempotent: the inbox runs this once per
    /// event, and an order has at most one shipment.
    pub async fn on_order_shipped(&self, tx: &mut Tx, order: &OrderFact) -> Result<()> {
        if order.digital_only || store::order_has_shipment(tx, order.order_id).await? {
            return Ok(());
        }
        let physical: Vec<(Uuid, i64)> = order
            .lines
            .iter()
            .filter(|l| l.product_type != ProductType::Voucher.as_str())
            .map(|l| (l.variant_id, l.quantity))
            .collect();
        if physical.is_empty() {
            return Ok(());
        }
        let mut ids: Vec<Uuid> = physical.iter().map(|(id, _)| *id).collect();
        ids.sort_unstable();
        ids.dedup();
        let quotes: HashMap<Uuid, VariantQuote> = self
            .catalog
            .variants(ids)
            .await?
            .into_iter()
            .map(|q| (q.variant_id, q))
            .collect();
        let weight_grams = parcel_weight(physical.iter().copied(), &quotes)
            .unwrap_or_default()
            .actual_or(self.config.default_parcel_weight_grams);
        let origin = self
            .merchants
            .shipping_origins(vec![order.merchant_id])
            .await?
            .into_iter()
            .next();
        let book = self.book().await?;
        let plan = match &order.shipping {
            Some(shipping) => Plan {
                courier: shipping.option.courier_code.clone(),
                service: ServiceLevel::parse(&shipping.option.service_code)
                    .unwrap_or(ServiceLevel::Regular),
                recipient: Some(shipping.address.clone()),
                amount: Some(shipping.option.amount),
                chargeable_weight_grams: Some(shipping.option.chargeable_weight_grams),
                currency: Some(order.currency),
            },
            None => match self.unquoted_plan(order, &book, origin.as_ref()).await? {
                Some(plan) => plan,
                None => {
                    tracing::warn!(order = %order.order_id, "shipped order without a courier: no shipment");
                    return Ok(());
                }
            },
        };
        let courier = book.iter().find(|c| c.code == plan.courier);
        if courier.is_none() {
            tracing::warn!(order = %order.order_id, courier = %plan.courier, "shipment with a courier that is not in the rate book");
        }
        let prefix = courier.map_or(FALLBACK_PREFIX, |c| c.tracking_prefix.as_str());
        let given = order
            .tracking_number
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| t.chars().take(tracking::TRACKING_MAX).collect::<String>());
        let now = now();
        let mut row = ShipmentRow {
            id: kernel::new_id(),
            order_id: order.order_id,
            order_number: order.number.clone(),
            merchant_id: order.merchant_id,
            customer_id: order.customer_id,
            courier_code: plan.courier.clone(),
            service: plan.service.as_str().to_owned(),
            tracking_number: given.clone().unwrap_or_else(|| new_tracking(prefix)),
            status: ShipmentStatus::LabelCreated.as_str().to_owned(),
            status_at: now,
            weight_grams,
            chargeable_weight_grams: plan.chargeable_weight_grams,
            shipping_amount: plan.amount,
            currency: plan.currency.map(|c| c.code().to_owned()),
            sender: to_json(&sender_of(origin.as_ref(), order.merchant_id))?,
            recipient: plan.recipient.as_ref().map(to_json).transpose()?,
            created_at: now,
            updated_at: now,
            delivered_at: None,
        };
        let mut note = "Label created".to_owned();
        let mut attempts = 0;
        while !store::insert_shipment(tx, &row).await? {
            attempts += 1;
            if attempts >= TRACKING_ATTEMPTS {
                return Err(ShippingError::Corrupt(format!(
                    "no free tracking number of {} after {attempts} draws",
                    plan.courier
                )));
            }
            // The order has no shipment (checked above): the courier's number is taken, by a
            // merchant reusing one or (rarely) a drawn one. The parcel still needs its own.
            let fresh = new_tracking(prefix);
            note = format!(
                "Label created; tracking number {} is another shipment's, so this one is {fresh}",
                row.tracking_number
            );
            row.tracking_number = fresh;
        }
        store::insert_tracking(
            tx,
            &TrackingRow {
                id: kernel::new_id(),
                shipment_id: row.id,
                status: row.status.clone(),
                occurred_at: now,
                received_at: now,
                location: None,
                description: Some(note),
                applied: true,
                source: "system".into(),
            },
        )
        .await?;
        bus::publish(tx, SOURCE, &ShipmentCreated(fact(&row, &book, None, None)?)).await?;
        Ok(())
    }

    /// An order placed before checkout quoted shipping names no courier and no address: the
    /// courier is the one whose generated numbers the given tracking number matches, else the
    /// first the merchant ships with (one with a regular service first); the address is the
    /// customer's primary saved address.
    async fn unquoted_plan(
        &self,
        order: &OrderFact,
        book: &[CourierBook],
        origin: Option<&ShippingOrigin>,
    ) -> Result<Option<Plan>> {
        let given = order.tracking_number.as_deref().map(str::trim);
        let by_number = given.and_then(|number| {
            book.iter()
                .find(|c| tracking::is_generated(&c.tracking_prefix, number))
        });
        let courier = match by_number {
            Some(courier) => Some(courier),
            None => {
                let country = origin.map(|o| o.address.country.trim().to_ascii_uppercase());
                let choices = self.choices(&[order.merchant_id]).await?;
                let couriers = country.map(|country| {
                    domain::merchant_couriers(
                        book,
                        &country,
                        choices.get(&order.merchant_id).map(Vec::as_slice),
                        self.simulator_on(),
                    )
                });
                // A courier with a regular service is the likelier choice for a parcel the
                // merchant took to the courier itself.
                couriers.and_then(|list| {
                    list.iter()
                        .find(|c| {
                            c.table
                                .services
                                .iter()
                                .any(|s| s.active && s.service == ServiceLevel::Regular)
                        })
                        .or(list.first())
                        .copied()
                })
            }
        };
        let Some(courier) = courier else {
            return Ok(None);
        };
        let service = courier
            .table
            .services
            .iter()
            .filter(|s| s.active)
            .map(|s| s.service)
            .min()
            .unwrap_or(ServiceLevel::Regular);
        let recipient = self
            .identity
            .addresses(order.customer_id)
            .await?
            .into_iter()
            .next()
            .map(ShippingAddress::from);
        Ok(Some(Plan {
            courier: courier.code.clone(),
            service,
            recipient,
            amount: None,
            chargeable_weight_grams: None,
            currency: None,
        }))
    }

    /// The shipment, to the order's customer, the merchant's staff and admins.
    pub async fn shipment(&self, actor: &Actor, id: Uuid) -> Result<Shipment> {
        let row = self.visible(actor, store::shipment(&self.ctx.db, id).await?)?;
        self.view(&row).await
    }

    /// The shipment of an order (404 until the order is shipped).
    pub async fn shipment_of_order(&self, actor: &Actor, order_id: Uuid) -> Result<Shipment> {
        let row = self.visible(
            actor,
            store::shipment_of_order(&self.ctx.db, order_id).await?,
        )?;
        self.view(&row).await
    }

    /// The shipment's tracking timeline.
    pub async fn tracking(&self, actor: &Actor, id: Uuid) -> Result<Tracking> {
        let row = self.visible(actor, store::shipment(&self.ctx.db, id).await?)?;
        let events = store::timeline(&self.ctx.db, row.id)
            .await?
            .into_iter()
            .map(|t| {
                Ok(TrackingEvent {
                    status: status_of(&t.status)?,
                    occurred_at: Timestamp::from_millis(t.occurred_at),
                    received_at: Timestamp::from_millis(t.received_at),
                    location: t.location,
                    description: t.description,
                    applied: t.applied,
                    source: t.source,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Tracking {
            shipment_id: row.id,
            courier_code: row.courier_code.clone(),
            status: status_of(&row.status)?,
            tracking_number: row.tracking_number,
            events,
        })
    }

    pub(super) fn visible(&self, actor: &Actor, row: Option<ShipmentRow>) -> Result<ShipmentRow> {
        row.filter(|r| may_see(actor, r))
            .ok_or(ShippingError::ShipmentNotFound)
    }

    pub(super) async fn view(&self, row: &ShipmentRow) -> Result<Shipment> {
        let book = self.book().await?;
        let courier = book.iter().find(|c| c.code == row.courier_code);
        let service =
            ServiceLevel::parse(&row.service).ok_or_else(|| corrupt("service", &row.service))?;
        let service_name = courier
            .and_then(|c| c.table.services.iter().find(|s| s.service == service))
            .map_or_else(|| row.service.clone(), |s| s.name.clone());
        Ok(Shipment {
            id: row.id,
            order_id: row.order_id,
            order_number: row.order_number.clone(),
            merchant_id: row.merchant_id,
            customer_id: row.customer_id,
            courier_code: row.courier_code.clone(),
            courier_name: courier.map_or_else(|| row.courier_code.clone(), |c| c.name.clone()),
            service,
            service_name,
            tracking_number: row.tracking_number.clone(),
            status: status_of(&row.status)?,
            status_at: Timestamp::from_millis(row.status_at),
            weight_grams: row.weight_grams,
            chargeable_weight_grams: row.chargeable_weight_grams,
            shipping_amount: row.shipping_amount,
            currency: row
                .currency
                .as_deref()
                .map(|c| Currency::parse(c).ok_or_else(|| corrupt("currency", c)))
                .transpose()?,
            sender: serde_json::from_str(&row.sender)
                .map_err(|e| ShippingError::Corrupt(e.to_string()))?,
            recipient: row
                .recipient
                .as_deref()
                .map(serde_json::from_str)
                .transpose()
                .map_err(|e| ShippingError::Corrupt(e.to_string()))?,
            created_at: Timestamp::from_millis(row.created_at),
            updated_at: Timestamp::from_millis(row.updated_at),
            delivered_at: row.delivered_at.map(Timestamp::from_millis),
        })
    }
}

pub(super) fn status_of(text: &str) -> Result<ShipmentStatus> {
    ShipmentStatus::parse(text).ok_or_else(|| corrupt("status", text))
}

/// The event payload of a shipment as `row` holds it.
pub(super) fn fact(
    row: &ShipmentRow,
    book: &[CourierBook],
    previous: Option<ShipmentStatus>,
    location: Option<&str>,
) -> Result<ShipmentFact> {
    Ok(ShipmentFact {
        shipment_id: row.id,
        order_id: row.order_id,
        order_number: row.order_number.clone(),
        merchant_id: row.merchant_id,
        customer_id: row.customer_id,
        courier_code: row.courier_code.clone(),
        courier_name: book
            .iter()
            .find(|c| c.code == row.courier_code)
            .map_or_else(|| row.courier_code.clone(), |c| c.name.clone()),
        service: ServiceLevel::parse(&row.service)
            .ok_or_else(|| corrupt("service", &row.service))?,
        tracking_number: row.tracking_number.clone(),
        status: status_of(&row.status)?,
        previous_status: previous,
        at: Timestamp::from_millis(row.status_at),
        location: location.map(str::to_owned),
    })
}
