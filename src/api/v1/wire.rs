//! Helpers for native wire types.

/// Declares a wire enum mirroring a domain enum variant for variant, with `From` both ways, so the
/// enum's JSON spelling and OpenAPI schema live in the API while the domain keeps its own type.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $wire:ident as $schema:ident <=> $domain:path { $($variant:ident),+ $(,)? }
    ) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        $(#[$meta])*
        #[schema(as = $schema)]
        $vis enum $wire {
            $($variant),+
        }

        impl From<$domain> for $wire {
            fn from(value: $domain) -> Self {
                use $domain as D;
                match value {
                    $(D::$variant => $wire::$variant),+
                }
            }
        }

        impl From<$wire> for $domain {
            fn from(value: $wire) -> Self {
                use $domain as D;
                match value {
                    $($wire::$variant => D::$variant),+
                }
            }
        }
    };
}

pub(crate) use wire_enum;
