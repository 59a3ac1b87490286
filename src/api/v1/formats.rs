//! Named string formats of the native API, for the OpenAPI document only: a wire field that holds one says
//! so with `#[schema(value_type = Slug)]`, and the document states the rule the domain checks, once, as a
//! component. The patterns are the domain's rules written as regular expressions; `tests/openapi.rs` checks
//! them against the domain's own checks on sample values.

use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Ref, Schema, Type};

use crate::domain::catalog::slug;
use crate::domain::customers;

/// Declares a schema-only type: a string with a description, a pattern, length bounds and an example.
macro_rules! string_format {
    ($(#[$meta:meta])* $name:ident { $($setting:ident: $value:expr),* $(,)? }) => {
        $(#[$meta])*
        #[allow(dead_code)] // never built: it exists for its schema
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new().schema_type(Type::String)$(.$setting($value))*.into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

string_format!(Slug {
    description: Some(
        "A URL slug: lower-case ASCII letters and digits in groups joined by single dashes."
    ),
    pattern: Some(slug::PATTERN),
    max_length: Some(slug::MAX_LEN),
    examples: [serde_json::json!("classic-white-t-shirt")],
});

string_format!(ScentWord {
    description: Some(
        "A mood or an occasion: a lower-case word of ASCII letters, dashes joining words (`laid-back`), 1 to 50 characters."
    ),
    pattern: Some("^[a-z]+(-[a-z]+)*$"),
    min_length: Some(1),
    max_length: Some(crate::domain::customers::scent::MAX_WORD_LEN),
    examples: [serde_json::json!("calm")],
});

/// An occasion recommendations know (`domain::blends::OCCASIONS`).
#[allow(dead_code)] // never built: it exists for its schema
pub struct Occasion;

impl utoipa::PartialSchema for Occasion {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(
                "An occasion recommendations know: notes with its moods score higher.",
            ))
            .enum_values(Some(
                crate::domain::blends::OCCASIONS
                    .iter()
                    .map(|(occasion, _)| *occasion),
            ))
            .examples([serde_json::json!("evening")])
            .into()
    }
}

impl utoipa::ToSchema for Occasion {}

string_format!(HttpUrl {
    description: Some(
        "An absolute `http://` or `https://` URL without spaces or control characters."
    ),
    pattern: Some(crate::domain::catalog::HTTP_URL_PATTERN),
    max_length: Some(crate::domain::catalog::MAX_URL_LEN),
    examples: [serde_json::json!(
        "https://cdn.example.com/images/white-tee.jpg"
    )],
});

string_format!(Sku {
    description: Some(
        "A stock-keeping unit, unique per site: 1 to 100 characters (after trimming), no control characters.",
    ),
    pattern: Some(
        "^[^\\x00-\\x1f\\x7f-\\x9f]*[^\\s\\x00-\\x1f\\x7f-\\x9f][^\\x00-\\x1f\\x7f-\\x9f]*$"
    ),
    min_length: Some(1),
    max_length: Some(100),
    examples: [serde_json::json!("TS-BLK-L")],
});

string_format!(Email {
    description: Some(
        "An email address: one `@`, 1 to 64 characters before it, a dotted domain after it, no spaces or \
         control characters.",
    ),
    pattern: Some(customers::Email::PATTERN),
    max_length: Some(254),
    examples: [serde_json::json!("jane@example.com")],
});

string_format!(CountryCode {
    description: Some("An ISO 3166-1 alpha-2 country code, upper case."),
    enum_values: Some(customers::country_codes()),
    examples: [serde_json::json!("LV")],
});

string_format!(LocaleTag {
    description: Some("A locale tag such as `en` or `en-GB`: ASCII letters, digits, `-` and `_`."),
    pattern: Some(crate::domain::sites::LOCALE_PATTERN),
    min_length: Some(1),
    max_length: Some(crate::domain::sites::MAX_LOCALE_LEN),
    examples: [serde_json::json!("en-GB")],
});

string_format!(Phone {
    description: Some(
        "A phone number as people write it: digits, spaces and `+ - . ( )`, at least one digit."
    ),
    pattern: Some(customers::PHONE_PATTERN),
    min_length: Some(3),
    max_length: Some(32),
    examples: [serde_json::json!("+371 2000 0000")],
});

/// Declares a schema-only id type: `<prefix>_` and 1 to 64 ASCII letters, digits, `_` or `-`
/// ([`crate::ids::is_valid`]).
macro_rules! id_format {
    ($name:ident, $prefix:literal, $what:literal) => {
        #[allow(dead_code)] // never built: it exists for its schema
        pub struct $name;

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .description(Some(concat!("The id of ", $what, " (`", $prefix, "_…`).")))
                    .pattern(Some(concat!("^", $prefix, "_[A-Za-z0-9_-]{1,64}$")))
                    .examples([serde_json::json!(concat!(
                        $prefix,
                        "_01JD2W3M4N5P6Q7R8S9T0V1W2X"
                    ))])
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

id_format!(BrandId, "br", "a brand");
id_format!(CategoryId, "cat", "a category");
id_format!(CustomerGroupId, "cgrp", "a customer group");

/// A variant's options: option name to value (a string, or a number kept as its text).
#[allow(dead_code)] // never built: it exists for its schema
pub struct OptionValues;

impl utoipa::PartialSchema for OptionValues {
    fn schema() -> RefOr<Schema> {
        let text = || {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(255))
        };
        let value = OneOfBuilder::new()
            .item(text())
            .item(ObjectBuilder::new().schema_type(Type::Number));
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "Option name to value, such as `{\"Size\": \"Large\"}`: at most 50 options, names and \
                 values of 1 to 255 characters (a number value is kept as its text).",
            ))
            .max_properties(Some(50))
            .property_names(Some(text()))
            .additional_properties(Some(Schema::from(value.build())))
            .examples([serde_json::json!({"Size": "Large", "Color": "Black"})])
            .into()
    }
}

impl utoipa::ToSchema for OptionValues {}

/// A product's translations: locale tag to translated fields, at most 50 locales.
#[allow(dead_code)] // never built: it exists for its schema
pub struct Translations;

impl utoipa::PartialSchema for Translations {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "Locale tag (`en-GB`) to the product's fields in that locale; at most 50.",
            ))
            .max_properties(Some(50))
            .property_names(Some(<LocaleTag as utoipa::PartialSchema>::schema()))
            .additional_properties(Some(Ref::from_schema_name("Translation")))
            .examples([serde_json::json!({"lv": {"name": "Klasisks balts T-krekls"}})])
            .into()
    }
}

impl utoipa::ToSchema for Translations {}

/// A location's address: free-form string fields (`line1`, `city`, `country`, …), at most 20, each at most
/// 255 characters; `null` values are kept as given.
#[allow(dead_code)] // never built: it exists for its schema
pub struct LocationAddress;

impl utoipa::PartialSchema for LocationAddress {
    fn schema() -> RefOr<Schema> {
        let value = ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::SchemaType::from_iter([
                Type::String,
                Type::Null,
            ]))
            .max_length(Some(255));
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "Free-form address fields (`line1`, `city`, `country`, …): at most 20, each a string of at most \
                 255 characters or `null`.",
            ))
            .max_properties(Some(20))
            .additional_properties(Some(value))
            .examples([serde_json::json!({"line1": "Main St 1", "city": "Riga", "country": "LV"})])
            .into()
    }
}

impl utoipa::ToSchema for LocationAddress {}

/// A site's theme: design-token names (CSS custom properties) to string values.
#[allow(dead_code)] // never built: it exists for its schema
pub struct ThemeTokens;

impl utoipa::PartialSchema for ThemeTokens {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some(
                "Design tokens (CSS custom properties) to values: at most 200, names of at most 100 characters, \
                 string values of at most 500.",
            ))
            .max_properties(Some(200))
            .property_names(Some(ObjectBuilder::new().schema_type(Type::String).max_length(Some(100))))
            .additional_properties(Some(ObjectBuilder::new().schema_type(Type::String).max_length(Some(500))))
            .examples([serde_json::json!({"--color-primary": "#6366f1"})])
            .into()
    }
}

impl utoipa::ToSchema for ThemeTokens {}

string_format!(HostName {
    description: Some(
        "A host name such as `shop.example.com`: ASCII letters, digits, `-` and `.`."
    ),
    pattern: Some("^[A-Za-z0-9.-]+$"),
    min_length: Some(1),
    max_length: Some(253),
    examples: [serde_json::json!("shop.example.com")],
});

string_format!(Origin {
    description: Some(
        "A web origin such as `https://shop.example.com` (scheme, host and optional port)."
    ),
    pattern: Some("^https?://[A-Za-z0-9.:-]+$"),
    max_length: Some(255),
    examples: [serde_json::json!("https://shop.example.com")],
});

string_format!(Code {
    description: Some("A code of 1 to 64 ASCII letters, digits, `-` or `_`."),
    pattern: Some("^[A-Za-z0-9_-]{1,64}$"),
    examples: [serde_json::json!("WELCOME20")],
});

id_format!(CustomerId, "cust", "a customer");

string_format!(Scope {
    description: Some("An API-key scope (`admin:*` holds every scope)."),
    enum_values: Some(crate::domain::keys::SCOPES.iter().copied()),
    examples: [serde_json::json!("read:catalog")],
});

/// A webhook subscription's events: a list of event names, `<group>.*` or `*` (1 to 50), or one such
/// name alone as a string.
#[allow(dead_code)] // never built: it exists for its schema
pub struct EventPatterns;

impl utoipa::PartialSchema for EventPatterns {
    fn schema() -> RefOr<Schema> {
        let pattern = || {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(crate::domain::events::patterns()))
        };
        let list = utoipa::openapi::schema::ArrayBuilder::new()
            .items(pattern())
            .min_items(Some(1))
            .max_items(Some(crate::domain::webhooks::MAX_EVENTS));
        OneOfBuilder::new()
            .item(list)
            .item(pattern())
            .description(Some(
                "Event names (`order.created`), `<group>.*` or `*`: a list of 1 to 50, or one alone as a string.",
            ))
            .examples([serde_json::json!(["order.created", "inventory.low"])])
            .into()
    }
}

impl utoipa::ToSchema for EventPatterns {}

/// The pattern of a comma-separated list of `names` (spaces around items allowed, empty items skipped), as
/// [`list_items`] reads it.
fn list_pattern(names: &[&str]) -> String {
    let one = format!("({})?", names.join("|"));
    format!("^ *{one} *(, *{one} *)*$")
}

/// The items of a comma-separated query value: split on `,`, spaces trimmed, empty items skipped.
pub fn list_items(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(',')
        .map(|item| item.trim_matches(' '))
        .filter(|item| !item.is_empty())
}

string_format!(ProductExpansions {
    description: Some("Comma-separated relations to load: `variants`, `brand`, `categories`."),
    pattern: Some(list_pattern(&["variants", "brand", "categories"])),
    examples: [serde_json::json!("variants,brand")],
});

string_format!(ProductFields {
    description: Some("Comma-separated product fields to return (`id` is always included)."),
    pattern: Some(list_pattern(super::products::FIELDS)),
    examples: [serde_json::json!("id,name,price,slug")],
});

string_format!(InventoryExpansions {
    description: Some("`locations` adds the per-location breakdown."),
    pattern: Some(list_pattern(&["locations"])),
    examples: [serde_json::json!("locations")],
});
