//! The one error type of the domain layer. Each dialect maps it to HTTP once, in its own envelope.

use super::field::FieldKey;

/// A failing field: its domain key (`variants[0].price`, which each dialect renders with its own field
/// names) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: FieldKey,
    pub message: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A uniqueness or state conflict; `code` is the machine code (`CONFLICT`, `OUT_OF_STOCK`, ...).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("{}", validation_summary(.0))]
    Validation(Vec<FieldError>),
    /// Well-formed amounts whose value, or whose arithmetic, leaves the bounds of [`super::money`].
    #[error("{}", validation_summary(.0))]
    OutOfRange(Vec<FieldError>),
    /// Fields each well-formed (every rule a schema can state holds) that break a rule no schema can: one
    /// field against another (`expiresAt` before `startsAt`) or against stored data (a `parentId` that names
    /// no category). Dialects answer it apart from [`Error::Validation`] (the native one with 422).
    #[error("{}", validation_summary(.0))]
    Unprocessable(Vec<FieldError>),
    #[error("{0}")]
    Forbidden(String),
    #[error("internal error: {0}")]
    Internal(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether the database could not be reached or gave up on the request rather than refusing it: the
    /// connection was lost or refused (PostgreSQL shutting down, starting up or out of connections), no
    /// connection came free in time, or a statement ran past its timeout. Nothing was committed, and a retry
    /// shortly may succeed: dialects answer 503 with `Retry-After`.
    pub fn is_unavailable(&self) -> bool {
        let Error::Database(e) = self else {
            return false;
        };
        match e {
            sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                // 08: connection exceptions; 53: insufficient resources (too many connections); 57P01–03:
                // administrator or crash shutdown, cannot connect now; 57014: statement timeout.
                code.starts_with("08")
                    || code.starts_with("53")
                    || code.starts_with("57P")
                    || code == "57014"
            }),
            _ => false,
        }
    }

    pub fn conflict(message: impl Into<String>) -> Self {
        Error::Conflict {
            code: "CONFLICT",
            message: message.into(),
        }
    }

    /// An amount out of bounds, caused by `field`.
    pub fn out_of_range(field: impl Into<FieldKey>) -> Self {
        Error::OutOfRange(vec![FieldError {
            field: field.into(),
            message: out_of_range_message(),
        }])
    }

    /// An amount out of bounds becomes one caused by `field` (the input that took a total past the bound);
    /// other errors pass.
    pub fn blaming(self, field: &str) -> Self {
        match self {
            Error::OutOfRange(_) => Error::out_of_range(field),
            other => other,
        }
    }

    pub fn invalid(field: impl Into<FieldKey>, message: impl Into<String>) -> Self {
        Error::Validation(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// A well-formed `field` that breaks a rule about other fields or stored data (see
    /// [`Error::Unprocessable`]).
    pub fn unprocessable(field: impl Into<FieldKey>, message: impl Into<String>) -> Self {
        Error::Unprocessable(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }
}

fn out_of_range_message() -> String {
    format!(
        "amounts (and the totals they make) must be from 0 to {} minor units",
        super::money::MAX_AMOUNT
    )
}

fn validation_summary(errors: &[FieldError]) -> String {
    match errors {
        [] => "validation failed".to_string(),
        [one] => format!("{}: {}", one.field, one.message),
        [first, rest @ ..] => format!(
            "{}: {} (and {} more)",
            first.field,
            first.message,
            rest.len()
        ),
    }
}

/// Collects field errors so a request reports all of them at once.
#[derive(Default)]
pub struct Validator {
    errors: Vec<FieldError>,
    out_of_range: Vec<FieldError>,
    unprocessable: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn check(&mut self, ok: bool, field: impl Into<FieldKey>, message: impl Into<String>) {
        if !ok {
            self.errors.push(FieldError {
                field: field.into(),
                message: message.into(),
            });
        }
    }

    pub fn error(&mut self, field: impl Into<FieldKey>, message: impl Into<String>) {
        self.check(false, field, message);
    }

    /// Like [`Validator::check`], for a rule that relates a well-formed field to another field or to stored
    /// data ([`Error::Unprocessable`]).
    pub fn rule(&mut self, ok: bool, field: impl Into<FieldKey>, message: impl Into<String>) {
        if !ok {
            self.unprocessable.push(FieldError {
                field: field.into(),
                message: message.into(),
            });
        }
    }

    /// Checks a string's length in characters (after the caller trimmed it if it should be). A required
    /// text (`min` ≥ 1) must also have a character that is not white space.
    pub fn text(&mut self, field: impl Into<FieldKey>, value: &str, min: usize, max: usize) {
        let len = value.chars().count();
        if len < min || (min > 0 && value.trim().is_empty()) {
            self.error(
                field,
                if min == 1 {
                    "must not be empty".to_string()
                } else {
                    format!("must be at least {min} characters")
                },
            );
        } else if len > max {
            self.error(field, format!("must be at most {max} characters"));
        }
    }

    /// A non-negative amount in minor units, at most [`super::money::MAX_AMOUNT`].
    pub fn money(&mut self, field: impl Into<FieldKey>, cents: i64) {
        if cents < 0 {
            self.error(
                field,
                "must be a non-negative integer amount in minor units (cents)",
            );
        } else if cents > super::money::MAX_AMOUNT {
            self.out_of_range.push(FieldError {
                field: field.into(),
                message: out_of_range_message(),
            });
        }
    }

    /// Malformed fields first (with everything else found); when all are well-formed, amounts out of bounds;
    /// then the rules between fields.
    pub fn finish(mut self) -> Result<()> {
        if !self.errors.is_empty() {
            self.errors.append(&mut self.out_of_range);
            self.errors.append(&mut self.unprocessable);
            Err(Error::Validation(self.errors))
        } else if !self.out_of_range.is_empty() {
            Err(Error::OutOfRange(self.out_of_range))
        } else if !self.unprocessable.is_empty() {
            Err(Error::Unprocessable(self.unprocessable))
        } else {
            Ok(())
        }
    }
}

/// Maps a unique-constraint violation on `constraint` to a conflict with `message`; other errors pass.
pub fn on_unique(err: sqlx::Error, constraint: &str, message: impl FnOnce() -> String) -> Error {
    if let sqlx::Error::Database(db) = &err
        && db.is_unique_violation()
        && db.constraint() == Some(constraint)
    {
        return Error::conflict(message());
    }
    Error::Database(err)
}
