//! Offset and cursor (keyset on the primary key) pagination, shared by every list.

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

/// Which page a list asks for. A cursor wins over a page number, as the spec says.
#[derive(Debug, Clone)]
pub enum PageRequest {
    Offset {
        page: i64,
        limit: i64,
    },
    /// Rows strictly after `after` (an id); `None` starts at the beginning.
    Cursor {
        after: Option<String>,
        limit: i64,
    },
}

impl PageRequest {
    pub fn limit(&self) -> i64 {
        match self {
            PageRequest::Offset { limit, .. } | PageRequest::Cursor { limit, .. } => *limit,
        }
    }

    /// The `after id` bound for keyset queries (`None` for offset mode and the first cursor page).
    pub fn after(&self) -> Option<&str> {
        match self {
            PageRequest::Cursor { after, .. } => after.as_deref(),
            PageRequest::Offset { .. } => None,
        }
    }

    pub fn offset(&self) -> i64 {
        match self {
            PageRequest::Offset { page, limit } => (page - 1) * limit,
            PageRequest::Cursor { .. } => 0,
        }
    }

    /// How many rows to fetch: one more than the limit in cursor mode, to learn whether a next page exists.
    pub fn fetch_limit(&self) -> i64 {
        match self {
            PageRequest::Offset { limit, .. } => *limit,
            PageRequest::Cursor { limit, .. } => limit + 1,
        }
    }

    pub fn is_cursor(&self) -> bool {
        matches!(self, PageRequest::Cursor { .. })
    }
}

/// A page of results, with the information either envelope needs.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub info: PageInfo,
}

#[derive(Debug, Clone)]
pub enum PageInfo {
    Offset {
        page: i64,
        limit: i64,
        total: i64,
    },
    Cursor {
        next_cursor: Option<String>,
        has_next_page: bool,
        limit: i64,
    },
}

impl<T> Page<T> {
    /// Builds a page from rows fetched with [`PageRequest::fetch_limit`]; `total` is used in offset mode.
    pub fn from_rows(
        request: &PageRequest,
        mut rows: Vec<T>,
        total: i64,
        id_of: impl Fn(&T) -> &str,
    ) -> Self {
        let info = match request {
            PageRequest::Offset { page, limit } => PageInfo::Offset {
                page: *page,
                limit: *limit,
                total,
            },
            PageRequest::Cursor { limit, .. } => {
                let has_next_page = rows.len() as i64 > *limit;
                rows.truncate(*limit as usize);
                let next_cursor = if has_next_page {
                    rows.last().map(|r| id_of(r).to_string())
                } else {
                    None
                };
                PageInfo::Cursor {
                    next_cursor,
                    has_next_page,
                    limit: *limit,
                }
            }
        };
        Page { items: rows, info }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            info: self.info,
        }
    }
}
