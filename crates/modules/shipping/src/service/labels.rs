//! Shipping labels: the merchant's staff (and admins) print one per shipment.

use super::*;
use crate::label;

impl Shipping {
    /// The label of a shipment as a one-page A6 PDF. Customers see their shipment but do not
    /// print its label.
    pub async fn label(&self, actor: &Actor, id: Uuid) -> Result<(Shipment, Vec<u8>)> {
        let row = self.visible(actor, store::shipment(&self.ctx.db, id).await?)?;
        if !is_admin(actor)
            && !actor.is_staff_with(row.merchant_id, MerchantPermission::ViewInternal)
        {
            return Err(ShippingError::Forbidden(
                "Labels are printed by the merchant's staff",
            ));
        }
        let shipment = self.view(&row).await?;
        let pdf = label::render(&shipment, &self.config.label);
        Ok((shipment, pdf))
    }
}
