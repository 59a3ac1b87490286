//! Email addresses, parsed once at the edge so the rest of the domain holds only valid ones.

/// The longest address SMTP can carry (RFC 5321 path limit less the brackets).
pub const MAX_LEN: usize = 254;
const MAX_LOCAL_LEN: usize = 64;

/// A trimmed, plausible email address. Case is kept as given; uniqueness is case-insensitive
/// (the database compares `lower(email)`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Trims, then checks: one `@`, a non-empty local part of at most 64 characters, a domain with a dot
    /// that neither starts nor ends with one, no whitespace or control characters, at most 254 characters.
    /// What [`Email::parse`] accepts (before trimming), as a regular expression for the API documents.
    pub const PATTERN: &str = concat!(
        "^[^\\s@\\x00-\\x1f\\x7f-\\x9f]{1,64}@",
        "[^\\s@\\x00-\\x1f\\x7f-\\x9f.-][^\\s@\\x00-\\x1f\\x7f-\\x9f.]*",
        "(\\.[^\\s@\\x00-\\x1f\\x7f-\\x9f.]+)*",
        "\\.[^\\s@\\x00-\\x1f\\x7f-\\x9f.]*[^\\s@\\x00-\\x1f\\x7f-\\x9f.-]$"
    );

    pub fn parse(input: &str) -> std::result::Result<Email, &'static str> {
        let email = input.trim();
        if email.is_empty() {
            return Err("must not be empty");
        }
        if email.chars().count() > MAX_LEN {
            return Err("must be at most 254 characters");
        }
        if email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must not contain spaces or control characters");
        }
        let mut parts = email.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err("must be an email address with exactly one `@`");
        };
        if local.is_empty() || local.chars().count() > MAX_LOCAL_LEN {
            return Err("must have 1 to 64 characters before the `@`");
        }
        if !domain.contains('.')
            || domain.starts_with(['.', '-'])
            || domain.ends_with(['.', '-'])
            || domain.contains("..")
        {
            return Err("must have a domain such as `example.com` after the `@`");
        }
        Ok(Email(email.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form uniqueness and lookups use.
    pub fn normalized(&self) -> String {
        self.0.to_lowercase()
    }
}

impl AsRef<str> for Email {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_trims_plausible_addresses() {
        assert_eq!(
            Email::parse("  Jane.Smith+tag@Example.COM ")
                .unwrap()
                .as_str(),
            "Jane.Smith+tag@Example.COM"
        );
        assert_eq!(
            Email::parse("Jane@Example.com").unwrap().normalized(),
            "jane@example.com"
        );
        assert!(Email::parse("a@b.co").is_ok());
        assert!(Email::parse("ünïcode@bücher.de").is_ok());
    }

    #[test]
    fn rejects_implausible_addresses() {
        for bad in [
            "",
            "   ",
            "plain",
            "@example.com",
            "jane@",
            "jane@@example.com",
            "ja@ne@example.com",
            "jane doe@example.com",
            "jane@exa mple.com",
            "jane\t@example.com",
            "jane@localhost",
            "jane@.example.com",
            "jane@example.com.",
            "jane@example..com",
            "jane@-example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert!(Email::parse(&long_local).is_err());
        let long = format!("{}@{}.com", "a".repeat(64), "b".repeat(190));
        assert_eq!(long.len(), 259);
        assert!(Email::parse(&long).is_err());
        let max = format!("{}@{}.com", "a".repeat(64), "b".repeat(185));
        assert_eq!(max.len(), 254);
        assert!(Email::parse(&max).is_ok());
    }
}
