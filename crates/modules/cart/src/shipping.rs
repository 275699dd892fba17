//! The summary's shipping: per merchant group with something physical, the cheapest option
//! shipping offers to the customer's address. Guests and customers without a saved address
//! see `ADDRESS_REQUIRED`; checkout quotes the option picked again.

use std::collections::HashMap;

use catalog_contract::{ProductType, VariantQuote};
use kernel::Currency;
use shipping_contract::{MerchantParcel, ParcelItem, RateQuery, ShippingAddress};
use uuid::Uuid;

use crate::api::{CartLine, ShippingQuote, SHIPPING_ADDRESS_REQUIRED, SHIPPING_UNAVAILABLE};
use crate::domain::shipping_status;
use crate::service::{Caller, Cart, CartError, Result};

impl Cart {
    pub(crate) async fn quote_shipping(
        &self,
        caller: &Caller,
        address_id: Option<Uuid>,
        currency: Currency,
        items: &[CartLine],
        quotes: &HashMap<Uuid, VariantQuote>,
    ) -> Result<HashMap<Uuid, ShippingQuote>> {
        let mut parcels: Vec<MerchantParcel> = Vec::new();
        for line in items.iter().filter(|l| l.sellable) {
            let Some(quote) = quotes.get(&line.variant_id) else {
                continue;
            };
            if quote.product_type != ProductType::Physical {
                continue;
            }
            let item = ParcelItem {
                variant_id: line.variant_id,
                quantity: line.quantity,
            };
            match parcels
                .iter_mut()
                .find(|p| p.merchant_id == quote.merchant_id)
            {
                Some(parcel) => parcel.items.push(item),
                None => parcels.push(MerchantParcel {
                    merchant_id: quote.merchant_id,
                    items: vec![item],
                }),
            }
        }
        if parcels.is_empty() {
            return Ok(HashMap::new());
        }
        let every = |status: &str| -> HashMap<Uuid, ShippingQuote> {
            parcels
                .iter()
                .map(|p| (p.merchant_id, shipping_status(status)))
                .collect()
        };
        if parcels.len() > shipping_contract::MAX_PARCELS_PER_QUOTE {
            return Ok(every(SHIPPING_UNAVAILABLE));
        }
        let Some(customer_id) = caller.customer()? else {
            return Ok(every(SHIPPING_ADDRESS_REQUIRED));
        };
        let addresses = self.identity.addresses(customer_id).await?;
        let address = match address_id {
            Some(id) => Some(
                addresses
                    .into_iter()
                    .find(|a| a.id == id)
                    .ok_or(CartError::UnknownAddress)?,
            ),
            None => {
                let primary = addresses.iter().position(|a| a.is_primary);
                primary.map(|at| addresses[at].clone())
            }
        };
        let Some(address) = address else {
            return Ok(every(SHIPPING_ADDRESS_REQUIRED));
        };
        // The summary still answers when shipping does not: nothing is quoted then.
        let rates = match self
            .shipping
            .rates(&RateQuery {
                currency,
                destination: ShippingAddress::from(address),
                parcels: parcels.clone(),
            })
            .await
        {
            Ok(rates) => rates,
            Err(err) => {
                tracing::warn!(error = %err.detail, "shipping not quoted for a cart summary");
                return Ok(every(SHIPPING_UNAVAILABLE));
            }
        };
        Ok(parcels
            .iter()
            .map(|parcel| {
                let cheapest = rates
                    .merchants
                    .iter()
                    .find(|m| m.merchant_id == parcel.merchant_id)
                    .and_then(|m| m.options.iter().min_by_key(|o| o.amount));
                let quote = match cheapest {
                    Some(option) => ShippingQuote::quoted(option.clone()),
                    None => shipping_status(SHIPPING_UNAVAILABLE),
                };
                (parcel.merchant_id, quote)
            })
            .collect())
    }
}
