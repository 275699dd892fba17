//! chat's kinds, as its API, frames and events carry them.

use kernel::text_enum;
use serde::{Deserialize, Serialize};

/// Which side of a conversation someone speaks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[schema(as = ChatSide)]
pub enum Side {
    Customer,
    /// Any staff member of the merchant.
    Merchant,
}

text_enum!(Side { Customer => "CUSTOMER", Merchant => "MERCHANT" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MessageKind {
    Text,
    /// An uploaded image, with an optional caption.
    Media,
}

text_enum!(MessageKind { Text => "TEXT", Media => "MEDIA" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TopicKind {
    Product,
    Order,
}

text_enum!(TopicKind { Product => "PRODUCT", Order => "ORDER" });
