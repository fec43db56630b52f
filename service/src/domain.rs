//! Validated input: each type can only be built from input that passed its
//! checks, so handlers and storage never see a bad email or quantity.

mod contact;
mod idempotency_key;
mod password;
mod quantity;

pub use contact::{Address, Contact, ContactForm, Email, Name, ValidationErrors};
pub use idempotency_key::IdempotencyKey;
pub use password::{hash_password, verify_password, Password};
pub use quantity::{Quantity, MAX_QUANTITY};
