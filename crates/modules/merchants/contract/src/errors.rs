//! The problem codes merchants answers with: callers match on these, never on strings.

kernel::error_codes! {
    /// Every `code` of a problem merchants answers with.
    pub enum MerchantsCode {
        InvitationInvalid => ("invitation_invalid", GONE, "The invitation expired, was used or withdrawn, or is for another address."),
        AlreadyMember => ("already_member", CONFLICT, "You are already staff of this merchant."),
        ApplicationPending => ("application_pending", CONFLICT, "You already have a merchant application under review."),
        InvalidTransition => ("invalid_transition", CONFLICT, "The merchant cannot take that status change from its current status; the problem lists the allowed next states."),
        InvitationNotForYou => ("invitation_not_for_you", FORBIDDEN, "This invitation was sent to another email address: sign in with the invited address to accept it."),
        InvitationNotFound => ("invitation_not_found", NOT_FOUND, "No such pending invitation."),
        MemberNotFound => ("member_not_found", NOT_FOUND, "No such member of this merchant."),
        MerchantNotFound => ("merchant_not_found", NOT_FOUND, "No such merchant."),
        OutletNotFound => ("outlet_not_found", NOT_FOUND, "No such outlet of this merchant."),
        OwnerCannotBeRemoved => ("owner_cannot_be_removed", CONFLICT, "The owner cannot be removed; close the merchant instead."),
    }
}
