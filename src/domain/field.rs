//! Field keys: which part of a command a field error is about, in the domain's own names
//! (`shipping_address.postal_code`, `variants[0].price`). Each dialect renders a key with its own field
//! names (the native API in camelCase: `shippingAddress.postalCode`), so the domain never names a wire
//! field.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A field of the domain's command, snake_case.
    Name(String),
    /// A position in a list.
    Index(usize),
    /// A key the client chose (a locale, an option name): rendered verbatim by every dialect.
    Data(String),
}

/// A path to a field. Built from a dotted string (`"variants[0].price"`) or with [`FieldKey::then`],
/// [`FieldKey::at`] and [`FieldKey::data`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldKey(pub Vec<Segment>);

impl FieldKey {
    pub fn then(mut self, name: &str) -> Self {
        self.0.extend(parse(name).0);
        self
    }

    pub fn at(mut self, index: usize) -> Self {
        self.0.push(Segment::Index(index));
        self
    }

    pub fn data(mut self, key: &str) -> Self {
        self.0.push(Segment::Data(key.to_string()));
        self
    }

    /// Renders the key, mapping each domain name with `name` (a dialect's naming rule).
    pub fn render(&self, name: impl Fn(&str) -> String) -> String {
        let mut out = String::new();
        for segment in &self.0 {
            match segment {
                Segment::Index(i) => out.push_str(&format!("[{i}]")),
                Segment::Name(n) | Segment::Data(n) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    match segment {
                        Segment::Name(_) => out.push_str(&name(n)),
                        _ => out.push_str(n),
                    }
                }
            }
        }
        out
    }
}

/// `"a.b[2].c"` → names and indices.
fn parse(path: &str) -> FieldKey {
    let mut segments = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (name, mut rest) = part.split_once('[').map_or((part, ""), |(n, r)| (n, r));
        if !name.is_empty() {
            segments.push(Segment::Name(name.to_string()));
        }
        while let Some((index, after)) = rest.split_once(']') {
            match index.parse() {
                Ok(i) => segments.push(Segment::Index(i)),
                Err(_) => segments.push(Segment::Data(index.to_string())),
            }
            rest = after.strip_prefix('[').unwrap_or(after);
        }
    }
    FieldKey(segments)
}

impl From<&str> for FieldKey {
    fn from(path: &str) -> Self {
        parse(path)
    }
}

impl From<String> for FieldKey {
    fn from(path: String) -> Self {
        parse(&path)
    }
}

impl From<&String> for FieldKey {
    fn from(path: &String) -> Self {
        parse(path)
    }
}

/// The domain's own spelling (snake_case names), for logs and messages.
impl fmt::Display for FieldKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(str::to_string))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn camel(n: &str) -> String {
        let mut out = String::new();
        let mut upper = false;
        for c in n.chars() {
            if c == '_' {
                upper = true;
            } else if upper {
                out.extend(c.to_uppercase());
                upper = false;
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn keys_parse_and_render_per_dialect() {
        let key = FieldKey::from("shipping_address.postal_code");
        assert_eq!(key.render(camel), "shippingAddress.postalCode");
        assert_eq!(key.to_string(), "shipping_address.postal_code");
        let key = FieldKey::from("variants[0].compare_at_price");
        assert_eq!(key.render(camel), "variants[0].compareAtPrice");
        let key = FieldKey::from("translations").data("pt_BR").then("name");
        assert_eq!(key.render(camel), "translations.pt_BR.name");
        assert_eq!(
            FieldKey::from("category_ids").at(3).render(camel),
            "categoryIds[3]"
        );
        assert_eq!(FieldKey::from("").render(camel), "");
    }
}
