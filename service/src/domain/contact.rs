use std::collections::BTreeMap;

/// A person's name: 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name(String);

/// A deliverable address: 5 to 300 characters, line breaks allowed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address(String);

/// An email address, lower-cased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

fn has_control_chars(s: &str, allow_newlines: bool) -> bool {
    s.chars()
        .any(|c| c.is_control() && !(allow_newlines && (c == '\n' || c == '\r')))
}

impl Name {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let len = s.chars().count();
        if len == 0 {
            Err("Please enter your name.".into())
        } else if len > 100 {
            Err("Names are limited to 100 characters.".into())
        } else if has_control_chars(s, false) {
            Err("The name contains characters we cannot print.".into())
        } else {
            Ok(Name(s.to_owned()))
        }
    }
}

impl Address {
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let len = s.chars().count();
        if len < 5 {
            Err("Please enter the full delivery address.".into())
        } else if len > 300 {
            Err("Addresses are limited to 300 characters.".into())
        } else if has_control_chars(s, true) {
            Err("The address contains characters we cannot print.".into())
        } else {
            Ok(Address(s.replace("\r\n", "\n")))
        }
    }
}

impl Email {
    /// Accepts `local@domain.tld` with the characters mail systems agree on;
    /// deliberately stricter than RFC 5322.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim().to_lowercase();
        let invalid = || Err(format!("`{s}` is not an email address we can write to."));
        if s.is_empty() {
            return Err("Please enter your email address.".into());
        }
        if s.len() > 254 {
            return Err("Email addresses are limited to 254 characters.".into());
        }
        let Some((local, domain)) = s.rsplit_once('@') else {
            return invalid();
        };
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            && labels.last().is_some_and(|tld| tld.len() >= 2);
        if local_ok && domain_ok {
            Ok(Email(s))
        } else {
            invalid()
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who an order goes to: built only by [`ContactForm::validate`], so every
/// field passed its checks.
#[derive(Debug, Clone)]
pub struct Contact {
    name: Name,
    email: Email,
    address: Address,
}

impl Contact {
    pub fn name(&self) -> &str {
        &self.name.0
    }

    pub fn email(&self) -> &str {
        &self.email.0
    }

    pub fn address(&self) -> &str {
        &self.address.0
    }
}

/// Field name → message, for re-rendering a form or a 422 body.
pub type ValidationErrors = BTreeMap<&'static str, String>;

/// The name, email and address of a checkout, as submitted.
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
pub struct ContactForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub address: String,
}

impl ContactForm {
    /// Validates every field, reporting all problems at once.
    pub fn validate(&self) -> Result<Contact, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = Name::parse(&self.name)
            .map_err(|e| errors.insert("name", e))
            .ok();
        let email = Email::parse(&self.email)
            .map_err(|e| errors.insert("email", e))
            .ok();
        let address = Address::parse(&self.address)
            .map_err(|e| errors.insert("address", e))
            .ok();
        match (name, email, address) {
            (Some(name), Some(email), Some(address)) => Ok(Contact {
                name,
                email,
                address,
            }),
            _ => Err(errors),
        }
    }
}

impl From<Name> for String {
    fn from(name: Name) -> String {
        name.0
    }
}

impl From<Email> for String {
    fn from(email: Email) -> String {
        email.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plausible_emails_are_accepted_and_lower_cased() {
        assert_eq!(
            Email::parse(" Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        assert!(Email::parse("first.last+tag@mail.example.org").is_ok());
    }

    #[test]
    fn implausible_emails_are_rejected() {
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a..b@example.com",
            "ada@-example.com",
            "ada@exa mple.com",
            "ada@example.c",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let errors = ContactForm::default().validate().unwrap_err();
        assert_eq!(
            errors.keys().copied().collect::<Vec<_>>(),
            ["address", "email", "name"]
        );
    }

    #[test]
    fn names_and_addresses_have_limits() {
        assert!(Name::parse(&"x".repeat(101)).is_err());
        assert!(Name::parse("Ada\u{0}").is_err());
        assert!(Address::parse("1 Main Street\nSpringfield").is_ok());
        assert!(Address::parse("x").is_err());
    }
}
