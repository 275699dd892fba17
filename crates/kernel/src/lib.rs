//! Shared vocabulary of Pasar. No I/O lives here: only the types every module speaks.

pub mod actor;
pub mod call;
pub mod codes;
pub mod contact;
pub mod error;
pub mod event;
pub mod hex;
pub mod i18n;
pub mod id;
pub mod money;
pub mod page;
pub mod sealed;
pub mod text_enum;
pub mod time;

pub use actor::{
    Actor, ActorKind, Membership, MerchantPermission, MerchantRole, Permission, Role,
    INTERNAL_SCOPE,
};
pub use call::{CallError, ErrorCode, Services};
pub use error::{ApiError, FieldError};
pub use event::{DomainEvent, EventEnvelope, EventSpec};
pub use hex::hex;
pub use i18n::LocalizedText;
pub use id::new_id;
pub use money::{format_amount, spread, Currency, Money};
pub use page::{Cursor, Page, PageQuery};
pub use sealed::Sealed;
pub use time::Timestamp;
