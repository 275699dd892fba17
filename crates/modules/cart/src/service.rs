//! cart's use cases: find or create the caller's cart (guest token or customer), change its
//! lines, merge a guest cart into a customer's, and price, summarize and validate it.

use std::collections::HashMap;
use std::sync::Arc;

use catalog_contract::{CatalogClient, VariantQuote};
use flashsales_contract::{FlashSalesClient, LivePrice};
use inventory_contract::{InventoryClient, SkuRef};
use kernel::{Actor, ActorKind, ApiError, Currency, FieldError, Timestamp};
use platform::services::CallError;
use platform::Context;
use promotions_contract::{LineSale, MerchantShipping, PromotionsClient, QuoteLine, QuoteRequest};
use uuid::Uuid;

use crate::api::*;
use crate::domain::{self, StoredLine};
use crate::store::{self, ItemRow};

#[derive(Debug, thiserror::Error)]
pub enum CartError {
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    #[error("no such cart item")]
    ItemNotFound,
    #[error("variant not for sale")]
    VariantUnavailable,
    #[error("cart is in {0:?}")]
    CurrencyMismatch(Currency),
    #[error("quantity limit")]
    QuantityLimit(i64),
    #[error("cart is full")]
    CartFull(usize),
    #[error("unknown cart token")]
    UnknownToken,
    #[error("not a customer")]
    NotACustomer,
    #[error("invalid coupon code")]
    InvalidCoupon,
    #[error("too many coupons")]
    TooManyCoupons,
    #[error("coupon not in cart")]
    CouponNotInCart,
    #[error("not one of the customer's addresses")]
    UnknownAddress,
    #[error(transparent)]
    Call(#[from] CallError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot make a token")]
    Random,
}

impl From<CartError> for ApiError {
    fn from(err: CartError) -> Self {
        match err {
            CartError::Invalid(errors) => ApiError::validation(errors),
            CartError::ItemNotFound => {
                ApiError::not_found("cart_item_not_found", "No such item in your cart")
            }
            CartError::VariantUnavailable => {
                ApiError::validation_one("variantId", "is not a product variant that is for sale")
                    .with_code("variant_unavailable")
            }
            CartError::CurrencyMismatch(currency) => ApiError::conflict(
                "currency_mismatch",
                format!(
                    "Your cart is in {}; one order is paid in one currency",
                    currency.code()
                ),
            ),
            CartError::QuantityLimit(max) => ApiError::validation_one(
                "quantity",
                &format!("would exceed {max} units of this item"),
            )
            .with_code("quantity_limit"),
            CartError::CartFull(max) => ApiError::conflict(
                "cart_full",
                format!("A cart holds at most {max} different items"),
            ),
            CartError::UnknownToken => ApiError::not_found(
                "cart_not_found",
                "No cart has this X-Cart-Token (it may have expired)",
            ),
            CartError::NotACustomer => {
                ApiError::forbidden("Only people have carts").with_code("not_a_customer")
            }
            CartError::InvalidCoupon => CartCode::InvalidCoupon
                .problem("A coupon code is 3 to 32 letters, digits or inner dashes"),
            CartError::TooManyCoupons => CartCode::TooManyCoupons
                .problem(format!("A cart holds at most {MAX_COUPONS} coupon codes")),
            CartError::CouponNotInCart => {
                CartCode::CouponNotInCart.problem("The cart has no such coupon code")
            }
            CartError::UnknownAddress => {
                ApiError::validation_one("addressId", "is not one of your saved addresses")
            }
            CartError::Call(err) => err.into(),
            CartError::Database(_) | CartError::Random => {
                tracing::error!(error = %err, "cart failure");
                ApiError::internal()
            }
        }
    }
}

pub(crate) type Result<T> = std::result::Result<T, CartError>;

/// Codes one cart may carry (promotions prices at most this many).
const MAX_COUPONS: usize = 5;

/// Who is asking: a signed-in customer, and/or the holder of a guest cart token.
pub struct Caller {
    pub actor: Option<Actor>,
    pub token: Option<String>,
}

impl Caller {
    pub(crate) fn customer(&self) -> Result<Option<Uuid>> {
        match &self.actor {
            Some(actor) if actor.kind == ActorKind::User => Ok(Some(actor.user_id)),
            Some(_) => Err(CartError::NotACustomer),
            None => Ok(None),
        }
    }
}

/// The cart a call works on.
struct Resolved {
    cart_id: Option<Uuid>,
    merged: bool,
}

pub struct Cart {
    pub ctx: Context,
    pub config: crate::config::CartConfig,
    catalog: CatalogClient,
    inventory: InventoryClient,
    promotions: PromotionsClient,
    flashsales: FlashSalesClient,
    pub(crate) identity: identity_contract::IdentityClient,
    pub(crate) shipping: shipping_contract::ShippingClient,
}

impl Cart {
    pub fn new(ctx: Context) -> Arc<Self> {
        Arc::new(Self {
            catalog: CatalogClient::new(ctx.services.clone(), "cart"),
            inventory: InventoryClient::new(ctx.services.clone(), "cart"),
            promotions: PromotionsClient::new(ctx.services.clone(), "cart"),
            flashsales: FlashSalesClient::new(ctx.services.clone(), "cart"),
            identity: identity_contract::IdentityClient::new(ctx.services.clone(), "cart"),
            shipping: shipping_contract::ShippingClient::new(ctx.services.clone(), "cart"),
            config: ctx.config.section_or_default(),
            ctx,
        })
    }

    fn max_quantity(&self) -> i64 {
        self.config.max_quantity_per_line
    }

    /// Finds the caller's cart; a signed-in customer presenting a guest token gets the guest
    /// cart merged into theirs.
    async fn resolve(&self, caller: &Caller) -> Result<Resolved> {
        let customer = caller.customer()?;
        let guest = match caller.token.as_deref() {
            Some(token) => {
                let found =
                    store::cart_of_token(&self.ctx.db, &platform::secrets::token_hash(token))
                        .await?;
                // A signed-in customer still sending the token of a cart merged earlier is
                // not an error; a guest with an unknown token is.
                if found.is_none() && customer.is_none() {
                    return Err(CartError::UnknownToken);
                }
                found
            }
            None => None,
        };
        match (customer, guest) {
            (Some(customer_id), Some(guest)) => {
                let cart_id = self.merge(customer_id, guest.id).await?;
                Ok(Resolved {
                    cart_id: Some(cart_id),
                    merged: true,
                })
            }
            (Some(customer_id), None) => Ok(Resolved {
                cart_id: store::cart_of_customer(&self.ctx.db, customer_id)
                    .await?
                    .map(|c| c.id),
                merged: false,
            }),
            (None, guest) => Ok(Resolved {
                cart_id: guest.map(|g| g.id),
                merged: false,
            }),
        }
    }

    /// Moves a guest cart's lines into the customer's cart (quantities add up to the cap) and
    /// deletes the guest cart, in one transaction.
    async fn merge(&self, customer_id: Uuid, guest_id: Uuid) -> Result<Uuid> {
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let cart_id = store::ensure_customer_cart(&mut tx, customer_id, now).await?;
        let max = self.max_quantity();
        for item in store::items_in(&mut tx, guest_id).await? {
            if !store::add_units(
                &mut tx,
                cart_id,
                item.variant_id,
                item.quantity,
                item.unit_price,
                &item.currency,
                max,
                now,
            )
            .await?
            {
                // Over the cap together: keep the most allowed.
                let existing = store::items_in(&mut tx, cart_id).await?;
                if let Some(line) = existing.iter().find(|l| l.variant_id == item.variant_id) {
                    store::set_quantity(&mut tx, cart_id, line.id, max, item.unit_price, now)
                        .await?;
                }
            }
        }
        let mut codes = store::coupons_in(&mut tx, cart_id).await?;
        for code in store::coupons_in(&mut tx, guest_id).await? {
            if codes.len() < MAX_COUPONS && !codes.contains(&code) {
                store::add_coupon(&mut tx, cart_id, &code, now).await?;
                codes.push(code);
            }
        }
        store::delete_cart(&mut tx, guest_id).await?;
        store::touch(&mut tx, cart_id, now).await?;
        tx.commit().await?;
        Ok(cart_id)
    }

    pub async fn view(&self, caller: &Caller) -> Result<CartView> {
        let resolved = self.resolve(caller).await?;
        self.render(resolved.cart_id, resolved.merged, None).await
    }

    pub async fn merge_explicit(&self, caller: &Caller) -> Result<CartView> {
        if caller.customer()?.is_none() {
            return Err(CartError::Invalid(vec![FieldError {
                field: "Authorization".into(),
                message: "sign in to merge a guest cart into yours".into(),
            }]));
        }
        if caller.token.is_none() {
            return Err(CartError::Invalid(vec![FieldError {
                field: "X-Cart-Token".into(),
                message: "is required: the guest cart to merge".into(),
            }]));
        }
        self.view(caller).await
    }

    async fn quotes(&self, variant_ids: Vec<Uuid>) -> Result<HashMap<Uuid, VariantQuote>> {
        if variant_ids.is_empty() {
            return Ok(HashMap::new());
        }
        Ok(self
            .catalog
            .variants(variant_ids)
            .await?
            .into_iter()
            .map(|q| (q.variant_id, q))
            .collect())
    }

    async fn stored_lines(&self, cart_id: Option<Uuid>) -> Result<Vec<StoredLine>> {
        let Some(cart_id) = cart_id else {
            return Ok(Vec::new());
        };
        Ok(store::items(&self.ctx.db, cart_id)
            .await?
            .into_iter()
            .filter_map(stored)
            .collect())
    }

    async fn render(
        &self,
        cart_id: Option<Uuid>,
        merged: bool,
        cart_token: Option<String>,
    ) -> Result<CartView> {
        let lines = self.stored_lines(cart_id).await?;
        let updated_at = match cart_id {
            Some(id) => store::updated_at(&self.ctx.db, id)
                .await?
                .map(Timestamp::from_millis),
            None => None,
        };
        let quotes = self
            .quotes(lines.iter().map(|l| l.variant_id).collect())
            .await?;
        let items: Vec<CartLine> = lines
            .iter()
            .map(|l| domain::priced_line(l, quotes.get(&l.variant_id)))
            .collect();
        Ok(CartView {
            id: cart_id,
            item_count: items.iter().map(|l| l.quantity).sum(),
            currency: lines.first().map(|l| l.currency),
            updated_at,
            expires_at: updated_at.map(|t| t.plus_seconds(self.config.ttl_days * 86_400)),
            items,
            cart_token,
            merged,
        })
    }

    pub async fn add(&self, caller: &Caller, request: AddItem) -> Result<CartView> {
        let max = self.max_quantity();
        domain::check_quantity(request.quantity, max).map_err(|e| CartError::Invalid(vec![e]))?;
        let quote = self
            .quotes(vec![request.variant_id])
            .await?
            .remove(&request.variant_id)
            .filter(|q| q.sellable)
            .ok_or(CartError::VariantUnavailable)?;
        let resolved = self.resolve(caller).await?;
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let mut new_token = None;
        let cart_id = match (resolved.cart_id, caller.customer()?) {
            (Some(id), _) => id,
            (None, Some(customer_id)) => {
                store::ensure_customer_cart(&mut tx, customer_id, now).await?
            }
            (None, None) => {
                let token = platform::secrets::random_token().map_err(|_| CartError::Random)?;
                let id = kernel::new_id();
                store::insert_guest_cart(&mut tx, id, &platform::secrets::token_hash(&token), now)
                    .await?;
                new_token = Some(token);
                id
            }
        };
        let existing = store::items_in(&mut tx, cart_id).await?;
        if let Some(currency) = existing
            .iter()
            .filter_map(|i| Currency::parse(&i.currency))
            .find(|c| *c != quote.currency)
        {
            return Err(CartError::CurrencyMismatch(currency));
        }
        let is_new_line = !existing.iter().any(|i| i.variant_id == quote.variant_id);
        let max_lines = self.config.max_lines;
        if is_new_line && store::count_lines(&mut tx, cart_id).await? >= max_lines as i64 {
            return Err(CartError::CartFull(max_lines));
        }
        let added = store::add_units(
            &mut tx,
            cart_id,
            quote.variant_id,
            request.quantity,
            quote.price,
            quote.currency.code(),
            max,
            now,
        )
        .await?;
        if !added {
            return Err(CartError::QuantityLimit(max));
        }
        store::touch(&mut tx, cart_id, now).await?;
        tx.commit().await?;
        self.render(Some(cart_id), resolved.merged, new_token).await
    }

    async fn existing_cart(&self, caller: &Caller) -> Result<(Uuid, bool)> {
        let resolved = self.resolve(caller).await?;
        Ok((
            resolved.cart_id.ok_or(CartError::ItemNotFound)?,
            resolved.merged,
        ))
    }

    /// Sets a line's quantity; the line takes the current price (acknowledging a change).
    pub async fn update(
        &self,
        caller: &Caller,
        item_id: Uuid,
        request: UpdateItem,
    ) -> Result<CartView> {
        domain::check_quantity(request.quantity, self.max_quantity())
            .map_err(|e| CartError::Invalid(vec![e]))?;
        let (cart_id, merged) = self.existing_cart(caller).await?;
        let variant_id = store::variant_in_cart(&self.ctx.db, cart_id, item_id)
            .await?
            .ok_or(CartError::ItemNotFound)?;
        let quote = self
            .quotes(vec![variant_id])
            .await?
            .remove(&variant_id)
            .filter(|q| q.sellable)
            .ok_or(CartError::VariantUnavailable)?;
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        if !store::set_quantity(
            &mut tx,
            cart_id,
            item_id,
            request.quantity,
            quote.price,
            now,
        )
        .await?
        {
            return Err(CartError::ItemNotFound);
        }
        store::touch(&mut tx, cart_id, now).await?;
        tx.commit().await?;
        self.render(Some(cart_id), merged, None).await
    }

    pub async fn remove(&self, caller: &Caller, item_id: Uuid) -> Result<CartView> {
        let (cart_id, merged) = self.existing_cart(caller).await?;
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        if !store::delete_item(&mut tx, cart_id, item_id).await? {
            return Err(CartError::ItemNotFound);
        }
        store::touch(&mut tx, cart_id, now).await?;
        tx.commit().await?;
        self.render(Some(cart_id), merged, None).await
    }

    pub async fn clear(&self, caller: &Caller) -> Result<CartView> {
        let resolved = self.resolve(caller).await?;
        if let Some(cart_id) = resolved.cart_id {
            let mut tx = self.ctx.db.begin().await?;
            store::clear(&mut tx, cart_id).await?;
            store::touch(&mut tx, cart_id, Timestamp::now()).await?;
            tx.commit().await?;
        }
        self.render(resolved.cart_id, resolved.merged, None).await
    }

    /// The cart by merchant, with the discounts promotions give it now (automatic ones and
    /// the codes entered) and why a code does not apply.
    pub async fn summary(&self, caller: &Caller, address_id: Option<Uuid>) -> Result<CartSummary> {
        let resolved = self.resolve(caller).await?;
        let lines = self.stored_lines(resolved.cart_id).await?;
        let quotes = self
            .quotes(lines.iter().map(|l| l.variant_id).collect())
            .await?;
        let items: Vec<CartLine> = lines
            .iter()
            .map(|l| domain::priced_line(l, quotes.get(&l.variant_id)))
            .collect();
        let codes = match resolved.cart_id {
            Some(id) => store::coupons(&self.ctx.db, id).await?,
            None => Vec::new(),
        };
        let currency = lines.first().map(|l| l.currency);
        let sale_prices: HashMap<Uuid, LivePrice> = self
            .flashsales
            .live_prices(
                items
                    .iter()
                    .filter(|l| l.sellable)
                    .map(|l| l.variant_id)
                    .collect(),
            )
            .await?
            .into_iter()
            .map(|p| (p.variant_id, p))
            .collect();
        let priced: Vec<QuoteLine> = items
            .iter()
            .filter(|l| l.sellable)
            .filter_map(|l| {
                let q = quotes.get(&l.variant_id)?;
                Some(QuoteLine {
                    variant_id: l.variant_id,
                    product_id: q.product_id,
                    merchant_id: q.merchant_id,
                    category_path: q.category_path.clone(),
                    brand_id: q.brand_id,
                    quantity: l.quantity,
                    unit_price: l.unit_price,
                    sale: sale_prices.get(&l.variant_id).map(|p| LineSale {
                        flash_sale_id: p.flash_sale_id,
                        title: p.title.clone(),
                        unit_price: p.sale_price,
                        list_price: p.list_price,
                        platform_funded: p.platform_funded,
                    }),
                })
            })
            .collect();
        let shipping = match currency {
            Some(currency) => {
                self.quote_shipping(caller, address_id, currency, &items, &quotes)
                    .await?
            }
            None => HashMap::new(),
        };
        let quote = match currency {
            Some(currency) if !priced.is_empty() => Some(
                self.promotions
                    .quote(&QuoteRequest {
                        customer_id: caller.customer()?,
                        currency,
                        lines: priced,
                        codes: codes.clone(),
                        shipping: shipping
                            .iter()
                            .filter_map(|(merchant_id, s)| {
                                s.amount.map(|amount| MerchantShipping {
                                    merchant_id: *merchant_id,
                                    amount,
                                })
                            })
                            .collect(),
                        points: None,
                        with_allocations: false,
                    })
                    .await?,
            ),
            _ => None,
        };
        Ok(domain::summarize(
            currency,
            items,
            quote.as_ref(),
            &codes,
            &shipping,
        ))
    }

    /// Enters a coupon code on the caller's cart (a customer without a cart gets one) and
    /// answers with the summary, which says whether it applies.
    pub async fn add_coupon(&self, caller: &Caller, request: AddCoupon) -> Result<CartSummary> {
        let code = request.code.trim().to_uppercase();
        if !domain::valid_coupon(&code) {
            return Err(CartError::InvalidCoupon);
        }
        let resolved = self.resolve(caller).await?;
        let now = Timestamp::now();
        let mut tx = self.ctx.db.begin().await?;
        let cart_id = match (resolved.cart_id, caller.customer()?) {
            (Some(id), _) => id,
            (None, Some(customer_id)) => {
                store::ensure_customer_cart(&mut tx, customer_id, now).await?
            }
            (None, None) => return Err(CartError::UnknownToken),
        };
        let codes = store::coupons_in(&mut tx, cart_id).await?;
        if !codes.contains(&code) {
            if codes.len() >= MAX_COUPONS {
                return Err(CartError::TooManyCoupons);
            }
            store::add_coupon(&mut tx, cart_id, &code, now).await?;
        }
        store::touch(&mut tx, cart_id, now).await?;
        tx.commit().await?;
        self.summary(caller, None).await
    }

    pub async fn remove_coupon(&self, caller: &Caller, code: &str) -> Result<CartSummary> {
        let code = code.trim().to_uppercase();
        let (cart_id, _) = self.existing_cart(caller).await.map_err(|e| match e {
            CartError::ItemNotFound => CartError::CouponNotInCart,
            other => other,
        })?;
        let mut tx = self.ctx.db.begin().await?;
        if !store::remove_coupon(&mut tx, cart_id, &code).await? {
            return Err(CartError::CouponNotInCart);
        }
        store::touch(&mut tx, cart_id, Timestamp::now()).await?;
        tx.commit().await?;
        self.summary(caller, None).await
    }

    /// Per-line problems a checkout would hit now: gone, unlisted, repriced, short of stock.
    pub async fn validate(&self, caller: &Caller) -> Result<Validation> {
        let resolved = self.resolve(caller).await?;
        let lines = self.stored_lines(resolved.cart_id).await?;
        let quotes = self
            .quotes(lines.iter().map(|l| l.variant_id).collect())
            .await?;
        let skus: Vec<SkuRef> = quotes
            .values()
            .map(|q| SkuRef {
                merchant_id: q.merchant_id,
                sku: q.sku.clone(),
            })
            .collect();
        let stock: HashMap<(Uuid, String), i64> = if skus.is_empty() {
            HashMap::new()
        } else {
            self.inventory
                .availability(skus)
                .await?
                .into_iter()
                .filter(|a| a.known)
                .map(|a| ((a.merchant_id, a.sku), a.available))
                .collect()
        };
        let problems: Vec<LineProblem> = lines
            .iter()
            .flat_map(|line| {
                let quote = quotes.get(&line.variant_id);
                let available =
                    quote.and_then(|q| stock.get(&(q.merchant_id, q.sku.clone())).copied());
                domain::line_problems(line, quote, available)
            })
            .collect();
        Ok(Validation {
            valid: problems.is_empty(),
            problems,
        })
    }

    /// The customer's lines, for checkout.
    pub async fn contents(&self, customer_id: Uuid) -> Result<CartContents> {
        let cart = store::cart_of_customer(&self.ctx.db, customer_id).await?;
        let lines = match &cart {
            Some(cart) => store::items(&self.ctx.db, cart.id)
                .await?
                .into_iter()
                .map(|i| CartContentLine {
                    variant_id: i.variant_id,
                    quantity: i.quantity,
                    line_id: Some(i.id),
                })
                .collect(),
            None => Vec::new(),
        };
        let coupon_codes = match &cart {
            Some(cart) => store::coupons(&self.ctx.db, cart.id).await?,
            None => Vec::new(),
        };
        Ok(CartContents {
            cart_id: cart.map(|c| c.id),
            lines,
            coupon_codes,
        })
    }

    /// Removes the lines a checkout ordered from the customer's cart, in the event
    /// consumer's transaction.
    pub async fn checked_out(
        &self,
        tx: &mut platform::Tx,
        customer_id: Uuid,
        lines: &[CartContentLine],
        coupon_codes: &[String],
    ) -> Result<()> {
        let Some(cart_id) = store::customer_cart_in(tx, customer_id).await? else {
            return Ok(());
        };
        for code in coupon_codes {
            store::remove_coupon(tx, cart_id, code).await?;
        }
        for line in lines {
            match line.line_id {
                Some(id) => store::remove_ordered_line(tx, cart_id, id, line.quantity).await?,
                // Checkouts recorded before line ids were: by variant and quantity.
                None => store::remove_ordered(tx, cart_id, line.variant_id, line.quantity).await?,
            }
        }
        store::touch(tx, cart_id, Timestamp::now()).await?;
        Ok(())
    }

    /// Deletes carts untouched for `cart.ttl_days`.
    pub async fn expire_stale(&self) -> Result<u64> {
        let before = Timestamp::now().plus_seconds(-self.config.ttl_days * 86_400);
        Ok(store::delete_stale(&self.ctx.db, before).await?)
    }
}

fn stored(row: ItemRow) -> Option<StoredLine> {
    Some(StoredLine {
        id: row.id,
        variant_id: row.variant_id,
        quantity: row.quantity,
        added_price: row.unit_price,
        currency: Currency::parse(&row.currency)?,
    })
}
