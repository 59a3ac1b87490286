//! Who is asking. Every domain function with a visibility or ownership rule takes a [`Caller`], so the
//! rule is decided here once and every dialect gets it by calling the domain: publishable callers see only
//! the active catalog, reach only guest carts and sessions or their own customer's, and name no customer
//! but themselves; test payments need test mode.

use super::error::{Error, Result};

/// Live or test data: test-mode callers place `isTest` orders through the test payment provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Live,
    Test,
}

/// Where the caller's credentials live, which decides how much it may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// A server-side integration holding a secret key: everything of its site (within its scopes).
    Secret,
    /// A browser or app holding a public key: the active catalog, guest carts and checkouts, and its own
    /// signed-in customer's.
    Publishable,
}

#[derive(Debug, Clone)]
pub struct Caller {
    pub site_id: String,
    pub mode: Mode,
    pub audience: Audience,
    /// The customer signed in for this request (a verified customer token), if any.
    pub customer_id: Option<String>,
}

impl Caller {
    /// A secret, live caller of a site: for jobs, the command line and tests.
    pub fn system(site_id: &str) -> Caller {
        Caller {
            site_id: site_id.to_string(),
            mode: Mode::Live,
            audience: Audience::Secret,
            customer_id: None,
        }
    }

    pub fn site_id(&self) -> &str {
        &self.site_id
    }

    pub fn is_test(&self) -> bool {
        self.mode == Mode::Test
    }

    /// Whether the caller sees products that are not ACTIVE (drafts, archived).
    pub fn sees_unpublished(&self) -> bool {
        self.audience == Audience::Secret
    }

    /// Whether the caller may reach a cart or checkout session owned by `owner` (`None`: a guest's, whose
    /// unguessable id is the guest's credential).
    pub fn may_reach(&self, owner: Option<&str>) -> bool {
        self.audience == Audience::Secret
            || owner.is_none_or(|o| self.customer_id.as_deref() == Some(o))
    }

    /// Whether the caller may read an order placed for `owner`. Unlike carts and sessions, a guest's order
    /// is never a browser's to read: order numbers can be guessed, so only the signed-in customer's own
    /// orders are.
    pub fn may_see_order(&self, owner: Option<&str>) -> bool {
        self.audience == Audience::Secret
            || owner.is_some_and(|o| self.customer_id.as_deref() == Some(o))
    }

    /// The customer a new cart or a contact step is for. A signed-in caller acts for itself, and a customer
    /// it names must be itself; only secret callers may name any customer of the site.
    pub fn acting_for(&self, requested: Option<String>) -> Result<Option<String>> {
        match (&self.customer_id, requested) {
            (Some(me), Some(named)) if named != *me => Err(Error::Forbidden(
                "the customer named is not the signed-in customer".into(),
            )),
            (Some(me), _) => Ok(Some(me.clone())),
            (None, Some(_)) if self.audience == Audience::Publishable => Err(Error::Forbidden(
                "a storefront caller can act only for its signed-in customer: sign in instead of naming a customerId"
                    .into(),
            )),
            (None, requested) => Ok(requested),
        }
    }

    /// Refuses a product status filter the caller may not read.
    pub fn check_status_filter(&self, active_only_requested: bool) -> Result<()> {
        if self.sees_unpublished() || active_only_requested {
            Ok(())
        } else {
            Err(Error::Forbidden(
                "Publishable keys can only read active products".into(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn browser(customer: Option<&str>) -> Caller {
        Caller {
            customer_id: customer.map(String::from),
            audience: Audience::Publishable,
            ..Caller::system("site_1")
        }
    }

    #[test]
    fn publishable_callers_reach_guest_and_own_carts_only() {
        assert!(browser(None).may_reach(None));
        assert!(!browser(None).may_reach(Some("cust_a")));
        assert!(browser(Some("cust_a")).may_reach(Some("cust_a")));
        assert!(!browser(Some("cust_a")).may_reach(Some("cust_b")));
        assert!(Caller::system("site_1").may_reach(Some("cust_b")));
    }

    #[test]
    fn browsers_read_only_their_own_customers_orders() {
        assert!(!browser(None).may_see_order(None));
        assert!(!browser(Some("cust_a")).may_see_order(None));
        assert!(!browser(Some("cust_a")).may_see_order(Some("cust_b")));
        assert!(browser(Some("cust_a")).may_see_order(Some("cust_a")));
        assert!(Caller::system("s").may_see_order(None));
    }

    #[test]
    fn only_secret_callers_name_another_customer() {
        assert!(browser(None).acting_for(Some("cust_a".into())).is_err());
        assert!(
            browser(Some("cust_a"))
                .acting_for(Some("cust_b".into()))
                .is_err()
        );
        assert_eq!(
            browser(Some("cust_a")).acting_for(None).unwrap().as_deref(),
            Some("cust_a")
        );
        assert_eq!(browser(None).acting_for(None).unwrap(), None);
        assert_eq!(
            Caller::system("s")
                .acting_for(Some("cust_b".into()))
                .unwrap()
                .as_deref(),
            Some("cust_b")
        );
    }
}
