//! shipping's use cases: couriers, their rate tables and merchants' choices (`couriers`),
//! quotes (`rates`), shipments created from shipped orders and who may see them
//! (`shipments`), courier reports and the simulator (`tracking`), and labels (`labels`).

mod couriers;
mod labels;
mod rates;
mod shipments;
mod tracking;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use catalog_contract::CatalogClient;
use identity_contract::IdentityClient;
use kernel::{
    Actor, ActorKind, ApiError, Currency, FieldError, MerchantPermission, Permission, Timestamp,
};
use merchants_contract::MerchantsClient;
use platform::services::CallError;
use platform::Context;
use uuid::Uuid;

use crate::api::*;
use crate::config::ShippingConfig;
use crate::domain::CourierBook;
use crate::store::{self, RateRows, ShipmentRow};

pub const SOURCE: &str = "shipping";
/// Topic of cache invalidations: a rate table changed in some process.
const CACHE_TOPIC: &str = "shipping";
/// The rate book is read again at least this often, in case an invalidation was lost.
const BOOK_TTL: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum ShippingError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("invalid rate table")]
    InvalidTable(Vec<FieldError>),
    #[error("courier not found")]
    CourierNotFound,
    #[error("merchant not found")]
    MerchantNotFound,
    #[error("shipment not found")]
    ShipmentNotFound,
    #[error("address not found")]
    AddressNotFound,
    #[error("invalid signature")]
    InvalidSignature,
    #[error("stale signature")]
    StaleSignature,
    #[error("no webhook secret for this courier")]
    WebhooksNotConfigured,
    #[error("not a simulator shipment")]
    NotSimulated,
    #[error("the shipment is finished")]
    Finished,
    #[error("not allowed: {0}")]
    Forbidden(&'static str),
    #[error(transparent)]
    Api(ApiError),
    #[error(transparent)]
    Call(#[from] CallError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("events: {0}")]
    Bus(#[from] platform::bus::BusError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<ApiError> for ShippingError {
    fn from(err: ApiError) -> Self {
        ShippingError::Api(err)
    }
}

impl From<ShippingError> for ApiError {
    fn from(err: ShippingError) -> Self {
        use ShippingCode as C;
        match err {
            ShippingError::Invalid(errors) => ApiError::validation(errors),
            ShippingError::InvalidTable(errors) => ApiError {
                errors,
                ..C::InvalidRateTable.problem("The rate table is refused; nothing changed")
            },
            ShippingError::CourierNotFound => C::CourierNotFound.problem("No such courier"),
            ShippingError::MerchantNotFound => C::MerchantNotFound.problem("No such merchant"),
            ShippingError::ShipmentNotFound => C::ShipmentNotFound.problem("No such shipment"),
            ShippingError::AddressNotFound => {
                C::AddressNotFound.problem("No such saved address of yours")
            }
            ShippingError::InvalidSignature => {
                C::InvalidSignature.problem("The webhook signature does not verify")
            }
            ShippingError::StaleSignature => C::StaleSignature
                .problem("The webhook signature's timestamp is outside the tolerance"),
            ShippingError::WebhooksNotConfigured => C::WebhooksNotConfigured
                .problem("This courier has no webhook secret configured here"),
            ShippingError::NotSimulated => {
                C::NotSimulated.problem("Only SIMULATOR shipments are advanced by the simulator")
            }
            ShippingError::Finished => {
                C::ShipmentFinished.problem("The shipment is delivered or returned")
            }
            ShippingError::Forbidden(detail) => ApiError::forbidden(detail),
            ShippingError::Api(err) => err,
            ShippingError::Call(err) => err.into(),
            ShippingError::Database(_) | ShippingError::Bus(_) | ShippingError::Corrupt(_) => {
                tracing::error!(error = %err, "shipping failure");
                ApiError::internal()
            }
        }
    }
}

pub type Result<T> = std::result::Result<T, ShippingError>;

/// The couriers with their rate tables, read once and shared until a table changes.
type Book = Arc<Vec<CourierBook>>;

#[derive(Default)]
struct BookCache(RwLock<Option<(Book, Instant)>>);

impl BookCache {
    fn get(&self) -> Option<Book> {
        let cached = self.0.read().ok()?;
        cached
            .as_ref()
            .filter(|(_, at)| at.elapsed() < BOOK_TTL)
            .map(|(book, _)| book.clone())
    }

    fn put(&self, book: Book) {
        if let Ok(mut cached) = self.0.write() {
            *cached = Some((book, Instant::now()));
        }
    }

    fn clear(&self) {
        if let Ok(mut cached) = self.0.write() {
            *cached = None;
        }
    }
}

pub struct Shipping {
    pub ctx: Context,
    pub config: ShippingConfig,
    catalog: CatalogClient,
    merchants: MerchantsClient,
    identity: IdentityClient,
    book: Arc<BookCache>,
}

impl Shipping {
    pub fn new(ctx: Context) -> Arc<Self> {
        let book = Arc::new(BookCache::default());
        let cleared = book.clone();
        ctx.invalidations
            .subscribe(CACHE_TOPIC, move |_| cleared.clear());
        Arc::new(Self {
            config: ctx.config.section_or_default(),
            catalog: CatalogClient::new(ctx.services.clone(), SOURCE),
            merchants: MerchantsClient::new(ctx.services.clone(), SOURCE),
            identity: IdentityClient::new(ctx.services.clone(), SOURCE),
            book,
            ctx,
        })
    }

    /// Every courier with its rate table (inactive ones too: their shipments still travel).
    pub(crate) async fn book(&self) -> Result<Book> {
        if let Some(book) = self.book.get() {
            return Ok(book);
        }
        let book = Arc::new(assemble(store::rate_rows(&self.ctx.db).await?)?);
        self.book.put(book.clone());
        Ok(book)
    }

    /// Drops the cached rate book here and in every other process.
    fn rates_changed(&self) {
        self.book.clear();
        self.ctx.invalidations.publish(CACHE_TOPIC, "*");
    }

    fn simulator_on(&self) -> bool {
        self.config.simulator.enabled
    }
}

/// The rate book from its rows (each list ordered by courier, service, zone).
fn assemble(rows: RateRows) -> Result<Vec<CourierBook>> {
    let mut brackets: BTreeMap<(String, String, String), Vec<WeightBracket>> = BTreeMap::new();
    for b in rows.brackets {
        brackets
            .entry((b.courier_code, b.service, b.zone))
            .or_default()
            .push(WeightBracket {
                from_grams: b.from_grams,
                to_grams: b.to_grams,
                amount: b.amount,
            });
    }
    let mut zones: BTreeMap<(String, String), Vec<ZoneRates>> = BTreeMap::new();
    for z in rows.zones {
        let zone = Zone::parse(&z.zone).ok_or_else(|| corrupt("zone", &z.zone))?;
        let key = (z.courier_code, z.service);
        let list = brackets
            .remove(&(key.0.clone(), key.1.clone(), z.zone))
            .unwrap_or_default();
        zones.entry(key).or_default().push(ZoneRates {
            zone,
            eta_min_days: z.eta_min_days,
            eta_max_days: z.eta_max_days,
            brackets: list,
            extra_per_kg: z.extra_per_kg,
        });
    }
    let mut services: BTreeMap<String, Vec<ServiceRates>> = BTreeMap::new();
    for s in rows.services {
        let service =
            ServiceLevel::parse(&s.service).ok_or_else(|| corrupt("service", &s.service))?;
        let list = zones
            .remove(&(s.courier_code.clone(), s.service))
            .unwrap_or_default();
        services
            .entry(s.courier_code)
            .or_default()
            .push(ServiceRates {
                service,
                name: s.name,
                active: s.active,
                cod: s.cod,
                max_weight_grams: s.max_weight_grams,
                zones: list,
            });
    }
    rows.couriers
        .into_iter()
        .map(|c| {
            let currency = c
                .currency
                .as_deref()
                .map(|text| Currency::parse(text).ok_or_else(|| corrupt("currency", text)))
                .transpose()?;
            Ok(CourierBook {
                table: RateTable {
                    active: c.active,
                    volumetric_divisor: c.volumetric_divisor,
                    services: services.remove(&c.code).unwrap_or_default(),
                },
                code: c.code,
                name: c.name,
                country: c.country,
                currency,
                tracking_prefix: c.tracking_prefix,
                version: c.version,
                updated_at: c.updated_at,
            })
        })
        .collect()
}

fn corrupt(what: &str, value: &str) -> ShippingError {
    ShippingError::Corrupt(format!("{what} {value}"))
}

pub(crate) fn field(name: impl Into<String>, message: &str) -> FieldError {
    FieldError {
        field: name.into(),
        message: message.into(),
    }
}

pub(crate) fn invalid(name: impl Into<String>, message: &str) -> ShippingError {
    ShippingError::Invalid(vec![field(name, message)])
}

fn now() -> i64 {
    Timestamp::now().millis()
}

fn is_admin(actor: &Actor) -> bool {
    actor.can(Permission::AdminOrders)
}

/// Who may see a shipment: the customer of its order, the merchant's staff, admins.
fn may_see(actor: &Actor, row: &ShipmentRow) -> bool {
    is_admin(actor)
        || actor.is_staff_with(row.merchant_id, MerchantPermission::ViewInternal)
        || (actor.kind != ActorKind::Service
            && actor.can(Permission::ManageOwnAccount)
            && actor.user_id == row.customer_id)
}
