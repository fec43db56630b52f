/// What makes a retried order submit place one order, not two: 8 to 255
/// printable ASCII characters, as a browser form or a client generates them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(s: &str) -> Result<Self, String> {
        if (8..=255).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_graphic()) {
            Ok(IdempotencyKey(s.to_owned()))
        } else {
            Err("must be 8 to 255 printable ASCII characters".into())
        }
    }

    /// A fresh key, for a form about to be rendered or a request sent
    /// without one (which then cannot be retried safely).
    pub fn generate() -> Self {
        IdempotencyKey(uuid::Uuid::new_v4().to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_is_eight_to_255_printable_characters() {
        assert!(IdempotencyKey::parse("1234567").is_err());
        assert!(IdempotencyKey::parse("12345678").is_ok());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
        assert!(IdempotencyKey::parse("with space").is_err());
        assert!(IdempotencyKey::parse(IdempotencyKey::generate().as_str()).is_ok());
    }
}
