//! Validated input: each type can only be built from input that passed its
//! checks, so handlers and storage never see a bad email or quantity.

mod contact;
mod password;
mod quantity;

pub use contact::{Address, ContactForm, Email, Name, ValidationErrors};
pub use password::{hash_password, verify_password, Password};
pub use quantity::Quantity;
