//! The native Shopvo v1 API: `/api/v1/{siteId}/…`.

mod api_keys;
mod b2b;
mod blends;
mod brands;
mod cart;
mod categories;
mod checkout;
mod customer_addresses;
mod customer_auth;
mod customer_groups;
mod customers;
mod formats;
mod gift_cards;
mod integrations;
mod inventory;
mod links;
mod locations;
mod loyalty;
mod menus;
mod metafields;
mod mozello_keys;
mod orders;
mod pages;
mod patch;
mod products;
mod promotions;
mod reviews;
mod scent_profile;
mod shipping;
mod site;
mod store_credit;
mod variants;
mod webhooks;
mod wire;

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::RoutePolicy;
use crate::http::auth::{ReadCatalog, Scope};
use crate::http::policy::{Access, RateGroup};
use crate::http::rate_limit::Group;
use crate::state::AppState;
use customer_auth::CustomerTokenAuth;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Shopvo API",
        description = "The Shopvo v1 REST API of a self-hostable headless commerce server.\n\n\
            Authenticate with `Authorization: Bearer sk_live_…` (or `sk_test_…`). Each operation lists the scope it \
            needs; `admin:*` grants all. Keys created with a signing secret must also send \
            `X-Shopvo-Signature: t=<unix>,sha256=<hex HMAC-SHA256(secret, \"<t>.<raw body>\")>` (the SDK's form, which \
            binds the body but not the method or path: a read may share a header with other reads, a write never \
            reuses one) or, binding the whole request, `t=<unix>,v2=<hex HMAC-SHA256(secret, \
            \"v2\\n<t>\\n<METHOD>\\n<path?query>\\n<raw body>\")>`.\n\n\
            Money is always an integer amount in minor units (cents). Lists take `page`/`limit` (offset) or \
            `cursor` (keyset). Writes accept an `Idempotency-Key` header. Errors are \
            `{\"success\": false, \"error\": \"…\", \"code\": \"…\"}`.",
        license(name = "MIT", identifier = "MIT"),
        contact(name = "Shopvo", url = "https://github.com/shopvo/shopvo"),
    ),
    // Relative: the document is served by the server it describes, wherever that is deployed.
    servers((url = "/", description = "The server serving this document")),
    modifiers(&BearerAuth, &CustomerTokenAuth, &WebhooksDoc),
    // Formats that only query parameters name (utoipa collects body schemas by itself, not these).
    components(schemas(
        formats::ProductExpansions,
        formats::ProductFields,
        formats::InventoryExpansions,
        formats::Occasion,
        products::types::PartialProduct,
        products::types::ProductRead
    )),
    tags(
        (name = "Products", description = "Products, with variants, brands and categories"),
        (name = "Variants", description = "Product variants: exactly one default per product"),
        (name = "Categories", description = "The category tree"),
        (name = "Brands", description = "Brands: a flat list; a product has at most one (`brandId`)"),
        (name = "Inventory", description = "Stock per variant and location, adjustments and their history"),
        (name = "Locations", description = "Where stock is kept; every site has a default location"),
        (name = "Customers", description = "Customer profiles, addresses and groups; totals derived from orders"),
        (name = "Customer accounts", description = "Storefront login for customers: any key of the site, then `X-Customer-Token`"),
        (name = "Promotions", description = "Discount codes; `/promotions/validate` is public"),
        (name = "Gift cards", description = "Gift cards: a balance redeemed in parts, a ledger per card; codes are secrets"),
        (name = "Store credit", description = "A balance per customer with its ledger: credits, debits and voids"),
        (name = "Metafields", description = "Typed key-value metadata on products, customers, orders and the site, unique by namespace and key"),
        (name = "Reviews", description = "Product reviews: submission, moderation, and the products' rating summaries"),
        (name = "B2B", description = "Company accounts with contacts, payment terms and credit limits, and the price lists their contacts buy at"),
        (name = "Loyalty", description = "The site's loyalty program, and each customer's points, tier and ledger: earned when orders are paid, awarded, deducted and redeemed"),
        (name = "Cart", description = "Carts priced from the catalog"),
        (name = "Checkout", description = "The checkout state machine: init → contact → shipping → payment → review → complete"),
        (name = "Orders", description = "Orders and their legal status transitions"),
        (name = "Shipping and tax", description = "Shipping methods and tax rates per country"),
        (name = "Site", description = "Site configuration"),
        (name = "Content", description = "Pages and navigation menus"),
        (name = "Blends", description = "Custom fragrance blends: the catalogue of categories and notes, and customers' blends"),
        (name = "Integrations", description = "Credentials of vendor integrations that reach this site through their own dialect (Mofavo, Mulopim, Mozello)"),
        (name = "API keys", description = "Key management for admin keys"),
        (name = "Webhooks", description = "Event subscriptions, signed deliveries retried for about 48 hours, \
            the delivery log, redelivery and test pings (events and payloads: see the API description)"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearerAuth",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("sk_live_… / sk_test_…")
                    .description(Some(
                        "A secret API key; the scopes each operation needs are listed with it.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Appends the webhook section to the API description, with the event catalogue from the domain (one list
/// for validation and documentation).
struct WebhooksDoc;

impl Modify for WebhooksDoc {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let section = format!(
            "\n\n## Webhooks\n\n\
            Subscriptions (`/webhooks`, scopes `webhooks:read` / `webhooks:write`) receive a `POST` with a JSON body \
            `{{\"event\": \"order.created\", \"timestamp\": \"<RFC 3339>\", \"siteId\": \"…\", \"data\": {{…}}}}` and the headers \
            `X-Shopvo-Event` (the event name), `X-Shopvo-Delivery` (`whd_…`, the same on every retry: de-duplicate on it) \
            and `X-Shopvo-Signature: t=<unix>,sha256=<hex HMAC-SHA256(secret, \"<t>.<raw body>\")>`, signed with the \
            subscription's `whsec_…` secret exactly like requests (check `t` is within 300 s; it is fresh on every \
            attempt). Any 2xx answer within 10 s is a success; anything else (redirects included) is retried with \
            jitter for about 48 hours (1 m, 5 m, 30 m, 2 h, 5 h, 10 h, 10 h, 10 h, 10 h by default), honouring \
            `Retry-After`, and then marked failed. Delivery is at least once and not ordered. A subscription whose \
            deliveries have all failed for 48 hours is disabled, with the reason in `disabledReason`.\n\n\
            Subscriptions list event names, `*`, or `<group>.*` (e.g. `order.*`). Events:\n\n{}\
            - `ping`: sent only by `POST /webhooks/{{webhookId}}/test`.\n",
            crate::domain::events::catalog_markdown()
        );
        let description = openapi.info.description.get_or_insert_with(String::new);
        description.push_str(&section);
    }
}

/// The native routes in groups, each declared with the plumbing policy its routes need.
fn groups() -> Vec<(RoutePolicy, OpenApiRouter<AppState>)> {
    let native = RoutePolicy::native();
    // Answers that depend only on the catalog, served from the read cache to keys that may read it.
    let catalog_reads = native.cached_for(ReadCatalog::NAME);
    vec![
        (
            catalog_reads.rate(RateGroup::SearchBy("search")),
            OpenApiRouter::new().routes(routes!(products::list, products::create)),
        ),
        (
            // Uploads carry an image: their own, larger body limit.
            catalog_reads.media_uploads(),
            OpenApiRouter::new()
                .routes(routes!(products::images::list, products::images::add))
                .routes(routes!(products::images::delete)),
        ),
        (
            catalog_reads,
            OpenApiRouter::new()
                .routes(routes!(
                    products::get,
                    products::update,
                    products::replace,
                    products::delete
                ))
                .routes(routes!(variants::list, variants::create))
                .routes(routes!(categories::list, categories::create))
                .routes(routes!(
                    categories::get,
                    categories::update,
                    categories::replace,
                    categories::delete
                ))
                .routes(routes!(brands::list, brands::create))
                .routes(routes!(
                    brands::get,
                    brands::update,
                    brands::replace,
                    brands::delete
                )),
        ),
        (
            native,
            OpenApiRouter::new()
                .routes(routes!(
                    variants::update,
                    variants::replace,
                    variants::delete
                ))
                .routes(routes!(inventory::list))
                .routes(routes!(inventory::adjust))
                .routes(routes!(inventory::history))
                .routes(routes!(locations::list, locations::create))
                .routes(routes!(
                    locations::get,
                    locations::update,
                    locations::replace,
                    locations::delete
                ))
                .routes(routes!(customers::list, customers::create))
                .routes(routes!(
                    customers::get,
                    customers::update,
                    customers::replace,
                    customers::delete
                ))
                .routes(routes!(
                    customer_addresses::list,
                    customer_addresses::create
                ))
                .routes(routes!(
                    customer_addresses::update,
                    customer_addresses::delete
                ))
                .routes(routes!(customer_groups::list, customer_groups::create))
                .routes(routes!(customer_auth::me))
                .routes(routes!(promotions::list, promotions::create))
                .routes(routes!(gift_cards::list, gift_cards::issue))
                .routes(routes!(gift_cards::get, gift_cards::update))
                .routes(routes!(gift_cards::redeem))
                .routes(routes!(gift_cards::transactions))
                .routes(routes!(store_credit::get, store_credit::adjust))
                .routes(routes!(store_credit::transactions))
                .routes(routes!(store_credit::void))
                .routes(routes!(loyalty::get_program, loyalty::put_program))
                .routes(routes!(loyalty::get))
                .routes(routes!(loyalty::transactions))
                .routes(routes!(loyalty::award))
                .routes(routes!(loyalty::deduct))
                .routes(routes!(loyalty::redeem))
                .routes(routes!(reviews::list_for_product, reviews::create))
                .routes(routes!(reviews::list))
                .routes(routes!(reviews::moderate, reviews::delete))
                .routes(routes!(b2b::list_accounts, b2b::create_account))
                .routes(routes!(
                    b2b::get_account,
                    b2b::update_account,
                    b2b::replace_account
                ))
                .routes(routes!(b2b::list_price_lists, b2b::create_price_list))
                .routes(routes!(
                    b2b::get_price_list,
                    b2b::update_price_list,
                    b2b::replace_price_list,
                    b2b::delete_price_list
                ))
                .routes(routes!(pages::list, pages::create))
                .routes(routes!(
                    pages::get,
                    pages::update,
                    pages::replace,
                    pages::delete
                ))
                .routes(routes!(blends::list_categories, blends::create_category))
                .routes(routes!(blends::list_notes, blends::create_note))
                .routes(routes!(blends::update_note, blends::delete_note))
                .routes(routes!(blends::list_blends))
                .routes(routes!(blends::get_blend, blends::update_blend))
                .routes(routes!(blends::public))
                .routes(routes!(blends::recommendations))
                .routes(routes!(blends::test_product))
                .routes(routes!(scent_profile::get, scent_profile::update))
                .routes(routes!(menus::list, menus::create))
                .routes(routes!(
                    menus::get,
                    menus::update,
                    menus::replace,
                    menus::delete
                ))
                .routes(routes!(metafields::list, metafields::create))
                .routes(routes!(
                    metafields::update,
                    metafields::replace,
                    metafields::delete
                ))
                .routes(routes!(
                    promotions::get,
                    promotions::update,
                    promotions::delete
                ))
                .routes(routes!(shipping::list_methods, shipping::create_method))
                .routes(routes!(shipping::update_method, shipping::delete_method))
                .routes(routes!(shipping::list_tax_rates, shipping::create_tax_rate))
                .routes(routes!(shipping::delete_tax_rate))
                .routes(routes!(
                    cart::get,
                    cart::create,
                    cart::update,
                    cart::replace,
                    cart::delete
                ))
                .routes(routes!(site::get, site::update))
                .routes(routes!(api_keys::list, api_keys::create))
                .routes(routes!(api_keys::revoke))
                .routes(routes!(
                    integrations::list_mofavo_tokens,
                    integrations::issue_mofavo_token
                ))
                .routes(routes!(integrations::revoke_mofavo_token))
                .routes(routes!(integrations::rotate_mulopim_credentials))
                .routes(routes!(
                    integrations::list_mulopim_app_passwords,
                    integrations::create_mulopim_app_password
                ))
                .routes(routes!(integrations::revoke_mulopim_app_password))
                .routes(routes!(
                    integrations::get_mulopim_settings,
                    integrations::update_mulopim_settings
                ))
                .routes(routes!(integrations::mulopim_webhook_log))
                .routes(routes!(
                    mozello_keys::list_mozello_keys,
                    mozello_keys::issue_mozello_key
                ))
                .routes(routes!(mozello_keys::revoke_mozello_key))
                .routes(routes!(webhooks::list, webhooks::create))
                .routes(routes!(
                    webhooks::get,
                    webhooks::update,
                    webhooks::replace,
                    webhooks::delete
                ))
                .routes(routes!(webhooks::rotate_secret))
                .routes(routes!(webhooks::deliveries))
                .routes(routes!(webhooks::delivery))
                .routes(routes!(webhooks::redeliver))
                .routes(routes!(webhooks::test)),
        ),
        (
            // Session routes answer with fresh tokens, which must never be stored; a replayed refresh would
            // also defeat rotation.
            native.without_idempotency(),
            OpenApiRouter::new()
                .routes(routes!(customer_auth::register))
                .routes(routes!(customer_auth::login))
                .routes(routes!(customer_auth::refresh))
                .routes(routes!(customer_auth::logout)),
        ),
        (
            native.rate(RateGroup::Fixed(Group::Checkout)),
            OpenApiRouter::new().routes(routes!(
                checkout::get,
                checkout::start,
                checkout::advance,
                checkout::advance_put
            )),
        ),
        (
            native.rate(RateGroup::Fixed(Group::Orders)),
            OpenApiRouter::new()
                .routes(routes!(orders::list))
                .routes(routes!(orders::get, orders::update)),
        ),
        (
            native.public(),
            OpenApiRouter::new().routes(routes!(promotions::validate)),
        ),
    ]
}

/// The paths of native routes that need no key.
pub fn public_paths() -> Vec<String> {
    groups()
        .into_iter()
        .filter(|(policy, _)| policy.access == Access::Public)
        .flat_map(|(_, routes)| routes.into_openapi().paths.paths.into_keys())
        .collect()
}

/// The OpenAPI document of the native API, as committed in `openapi/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    assemble(|_, routes| routes).1
}

/// The native routes, each group behind the plumbing its policy declares, and their OpenAPI document.
pub fn routes(state: &AppState) -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    assemble(|policy, routes| crate::http::mount(routes, state, policy))
}

/// Merges the groups (each passed through `mount`) into one router with unique operation ids.
fn assemble(
    mount: impl Fn(RoutePolicy, OpenApiRouter<AppState>) -> OpenApiRouter<AppState>,
) -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let router = groups().into_iter().fold(
        OpenApiRouter::with_openapi(ApiDoc::openapi()),
        |all, (policy, group)| all.merge(mount(policy, group)),
    );
    let (routes, mut doc) = router.split_for_parts();
    name_operations(&mut doc);
    crate::http::envelope::reference_payloads(&mut doc);
    links::add(&mut doc);
    (routes, doc)
}

/// Operation ids must be unique, and handlers share names (`list`, `create`, ...) across modules: prefix
/// each with its resource path, e.g. `products_list`, `products_variants_create`.
fn name_operations(doc: &mut utoipa::openapi::OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        let resource: Vec<&str> = path
            .split('/')
            .skip_while(|s| *s != "{siteId}")
            .skip(1)
            .filter(|s| !s.is_empty() && !s.starts_with('{'))
            .map(|s| s.trim_matches(|c: char| !c.is_ascii_alphanumeric()))
            .collect();
        let prefix = resource.join("_").replace('-', "_");
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for op in operations.into_iter().flatten() {
            let name = op.operation_id.clone().unwrap_or_default();
            let id = if prefix.ends_with(&name) {
                prefix.clone()
            } else {
                format!("{prefix}_{name}")
            };
            op.operation_id = Some(id);
        }
    }
}
