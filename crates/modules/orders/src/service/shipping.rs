//! Shipping at checkout: the customer's saved address is read from identity, shipping quotes
//! every order that ships again, and the customer's pick must be one of the options it offers.
//! The order keeps a copy of the option and the address.

use shipping_contract::{MerchantParcel, ParcelItem, RateQuery};

use super::*;
use crate::domain::{self, Plan};

const PHYSICAL: &str = "PHYSICAL";

impl Orders {
    pub(super) async fn quote_shipping(
        &self,
        plan: &mut Plan,
        address_id: Option<Uuid>,
        choices: &[ShippingChoice],
    ) -> Result<()> {
        let parcels: Vec<(Uuid, MerchantParcel)> = plan
            .orders
            .iter()
            .filter(|o| o.lines.iter().any(|l| l.product_type == PHYSICAL))
            .map(|o| {
                let items = o
                    .lines
                    .iter()
                    .filter(|l| l.product_type == PHYSICAL)
                    .map(|l| ParcelItem {
                        variant_id: l.variant_id,
                        quantity: l.quantity,
                    })
                    .collect();
                (
                    o.id,
                    MerchantParcel {
                        merchant_id: o.merchant_id,
                        items,
                    },
                )
            })
            .collect();
        if parcels.is_empty() {
            if address_id.is_some() || !choices.is_empty() {
                return Err(invalid(
                    "shipping",
                    "nothing in this checkout ships: give no address and no shipping option",
                ));
            }
            return Ok(());
        }
        let shipping_merchants: Vec<Uuid> = parcels.iter().map(|(_, p)| p.merchant_id).collect();
        for (index, choice) in choices.iter().enumerate() {
            if !shipping_merchants.contains(&choice.merchant_id) {
                return Err(invalid(
                    &format!("shipping[{index}].merchantId"),
                    "no order of this merchant ships in this checkout",
                ));
            }
            if choices[..index]
                .iter()
                .any(|c| c.merchant_id == choice.merchant_id)
            {
                return Err(invalid(
                    &format!("shipping[{index}].merchantId"),
                    "one shipping option per merchant",
                ));
            }
        }
        let address_id = address_id.ok_or(OrdersError::AddressRequired)?;
        let missing: Vec<Uuid> = shipping_merchants
            .iter()
            .filter(|m| !choices.iter().any(|c| c.merchant_id == **m))
            .copied()
            .collect();
        if !missing.is_empty() {
            return Err(OrdersError::ShippingChoiceRequired(missing));
        }
        let address = self
            .identity
            .addresses(plan.customer_id)
            .await?
            .into_iter()
            .find(|a| a.id == address_id)
            .ok_or_else(|| invalid("shippingAddressId", "is not one of your saved addresses"))?;
        let destination = ShippingAddress::from(address);
        let quote = self
            .shipping
            .rates(&RateQuery {
                currency: plan.currency,
                destination: destination.clone(),
                parcels: parcels.iter().map(|(_, p)| p.clone()).collect(),
            })
            .await?;
        let mut unavailable = Vec::new();
        let mut picked = Vec::new();
        for (order_id, parcel) in &parcels {
            let choice = choices.iter().find(|c| c.merchant_id == parcel.merchant_id);
            let option = quote
                .merchants
                .iter()
                .find(|m| m.merchant_id == parcel.merchant_id)
                .and_then(|m| {
                    m.options.iter().find(|o| {
                        choice.is_some_and(|c| {
                            c.courier_code == o.courier_code && c.service_code == o.service_code
                        })
                    })
                });
            match option {
                Some(option) => picked.push((*order_id, option.clone())),
                None => unavailable.push(parcel.merchant_id),
            }
        }
        if !unavailable.is_empty() {
            return Err(OrdersError::ShippingUnavailable(unavailable));
        }
        for (order_id, option) in picked {
            domain::set_shipping(
                plan,
                order_id,
                OrderShipping {
                    option,
                    address: destination.clone(),
                    discount: 0,
                    platform_discount: 0,
                },
            )
            .map_err(super::checkout::plan_error)?;
        }
        Ok(())
    }
}
