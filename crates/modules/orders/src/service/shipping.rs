//! Shipping at checkout: the customer's saved address is read from identity, shipping quotes
//! every order that ships again, and the customer's pick must be one of the options it offers.
//! The order keeps a copy of the option and the address.

use shipping_contract::{MerchantParcel, ParcelItem, RateQuery, MAX_PARCELS_PER_QUOTE};

use super::*;
use crate::domain::{self, Plan};

const PHYSICAL: &str = "PHYSICAL";
/// Longest text of an address field given with the checkout.
const ADDRESS_FIELD_MAX: usize = 200;

/// Where the checkout ships: a saved address, or one given for this checkout.
pub(super) struct AddressChoice {
    pub saved: Option<Uuid>,
    pub given: Option<ShippingAddress>,
}

impl Orders {
    pub(super) async fn quote_shipping(
        &self,
        plan: &mut Plan,
        address: AddressChoice,
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
            if address.saved.is_some() || address.given.is_some() || !choices.is_empty() {
                return Err(invalid(
                    "shipping",
                    "nothing in this checkout ships: give no address and no shipping option",
                ));
            }
            return Ok(());
        }
        if parcels.len() > MAX_PARCELS_PER_QUOTE {
            return Err(invalid(
                "lines",
                "at most 20 merchants ship in one checkout: split it",
            ));
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
        if address.saved.is_none() && address.given.is_none() {
            return Err(OrdersError::AddressRequired);
        }
        let missing: Vec<Uuid> = shipping_merchants
            .iter()
            .filter(|m| !choices.iter().any(|c| c.merchant_id == **m))
            .copied()
            .collect();
        if !missing.is_empty() {
            return Err(OrdersError::ShippingChoiceRequired(missing));
        }
        let destination = match (address.saved, address.given) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "shippingAddress",
                    "give shippingAddressId or shippingAddress, not both",
                ))
            }
            (Some(id), None) => self
                .identity
                .addresses(plan.customer_id)
                .await?
                .into_iter()
                .find(|a| a.id == id)
                .map(ShippingAddress::from)
                .ok_or_else(|| {
                    invalid("shippingAddressId", "is not one of your saved addresses")
                })?,
            (None, Some(given)) => checked_address(given)?,
            (None, None) => return Err(OrdersError::AddressRequired),
        };
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

/// An address given with the checkout: the fields a courier needs, trimmed, of sane length.
fn checked_address(mut address: ShippingAddress) -> Result<ShippingAddress> {
    let mut errors = Vec::new();
    let mut required = |field: &str, value: &mut String| {
        *value = value.trim().to_owned();
        if value.is_empty() || value.chars().count() > ADDRESS_FIELD_MAX {
            errors.push(kernel::FieldError {
                field: format!("shippingAddress.{field}"),
                message: format!("must be 1 to {ADDRESS_FIELD_MAX} characters"),
            });
        }
    };
    required("recipient", &mut address.recipient);
    required("phone", &mut address.phone);
    required("street", &mut address.street);
    required("city", &mut address.city);
    address.country = address.country.trim().to_uppercase();
    if address.country.len() != 2 || !address.country.bytes().all(|b| b.is_ascii_uppercase()) {
        errors.push(kernel::FieldError {
            field: "shippingAddress.country".into(),
            message: "must be an ISO 3166-1 alpha-2 code".into(),
        });
    }
    for (field, value) in [
        ("province", &address.province),
        ("postalCode", &address.postal_code),
    ] {
        if value
            .as_ref()
            .is_some_and(|v| v.chars().count() > ADDRESS_FIELD_MAX)
        {
            errors.push(kernel::FieldError {
                field: format!("shippingAddress.{field}"),
                message: format!("must be at most {ADDRESS_FIELD_MAX} characters"),
            });
        }
    }
    let coordinates_ok = address.latitude.is_none_or(|l| (-90.0..=90.0).contains(&l))
        && address
            .longitude
            .is_none_or(|l| (-180.0..=180.0).contains(&l));
    if !coordinates_ok {
        errors.push(kernel::FieldError {
            field: "shippingAddress.latitude".into(),
            message: "latitude -90..90, longitude -180..180".into(),
        });
    }
    if errors.is_empty() {
        Ok(address)
    } else {
        Err(OrdersError::Invalid(errors))
    }
}
