//! The problem codes orders answers with: callers match on these, never on strings.

kernel::error_codes! {
    /// Every `code` of a problem orders answers with.
    pub enum OrdersCode {
        CheckoutAbandoned => ("checkout_abandoned", CONFLICT, "The checkout took too long and was undone; try again."),
        AddressRequired => ("address_required", UNPROCESSABLE_ENTITY, "Something in the checkout ships: `shippingAddressId` (one of the customer's saved addresses) is required; nothing was ordered."),
        ShippingChoiceRequired => ("shipping_choice_required", UNPROCESSABLE_ENTITY, "An order that ships needs one shipping option (`shipping`: merchant, courier, service) as `POST /api/v1/shipping/rates` offers it; `merchantIds` names those without; nothing was ordered."),
        ShippingUnavailable => ("shipping_unavailable", CONFLICT, "The shipping option picked is not offered for this address and parcel (any more); quote again; `merchantIds` names the orders; nothing was ordered."),
        CouponNotApplicable => ("coupon_not_applicable", UNPROCESSABLE_ENTITY, "A coupon code given at checkout does not apply; `coupons` says why for each; nothing was ordered."),
        FlashSaleBusy => ("flash_sale_busy", TOO_MANY_REQUESTS, "Too many buyers are checking out a flash sale at once; retry after the Retry-After seconds; nothing was ordered."),
        FlashSaleEnded => ("flash_sale_ended", CONFLICT, "The flash sale of some items (`variantIds`) has just ended: their price changed; nothing was ordered."),
        FlashSaleLimit => ("flash_sale_limit", CONFLICT, "You already hold or bought as many units of a flash-sale item as it allows; nothing was ordered."),
        EmptyOrder => ("empty_order", UNPROCESSABLE_ENTITY, "There is nothing to order."),
        IllegalTransition => ("illegal_transition", CONFLICT, "The order cannot move to that status from its current one, or not by this caller."),
        InsufficientPoints => ("insufficient_points", CONFLICT, "Fewer loyalty points than asked to redeem (another checkout may have used them); nothing was ordered."),
        InsufficientStock => ("insufficient_stock", CONFLICT, "Not enough stock for every line; nothing was ordered."),
        ItemsUnavailable => ("items_unavailable", CONFLICT, "Some items are not for sale; nothing was ordered."),
        MixedCurrencies => ("mixed_currencies", CONFLICT, "Items priced in different currencies cannot be ordered together."),
        NothingToPay => ("nothing_to_pay", UNPROCESSABLE_ENTITY, "The discounts take the whole amount: a checkout with nothing to pay is not supported yet; nothing was ordered."),
        NotACustomer => ("not_a_customer", FORBIDDEN, "Only a signed-in person can check out."),
        OrderNotFound => ("order_not_found", NOT_FOUND, "No such order."),
        PointsBelowMinimum => ("points_below_minimum", UNPROCESSABLE_ENTITY, "Fewer points than the smallest redemption; nothing was ordered."),
        PromotionUnavailable => ("promotion_unavailable", CONFLICT, "A discount the checkout was priced with reached its limit or budget meanwhile; look at the cart again; nothing was ordered."),
        SoldOut => ("sold_out", CONFLICT, "A flash-sale item is sold out (units come back when unpaid orders expire); nothing was ordered."),
        TooLarge => ("too_large", UNPROCESSABLE_ENTITY, "The amounts are too large."),
        VoucherNotPurchasable => ("voucher_not_purchasable", CONFLICT, "Some vouchers cannot be bought: no offer on sale, or your limit is reached; nothing was ordered."),
    }
}
