// A storefront's purchase, typed end to end from openapi/openapi.json (see README, "Storefront client").
//
// With the admin key it only creates a publishable test key (and a shipping method if the site has
// none for LV); everything else goes through that publishable key, as a web page would.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

function fail(message: string): never {
  console.error(`storefront: ${message}`);
  process.exit(1);
}

function env(name: string): string {
  const value = process.env[name];
  if (!value) fail(`${name} is not set`);
  return value;
}

/** The body of an answer with exactly the `status` expected; anything else ends the program. */
function expect<T>(step: string, status: number, res: { data?: T; error?: unknown; response: Response }): T {
  if (res.response.status !== status || res.data === undefined) {
    const body = JSON.stringify(res.error ?? res.data ?? null);
    fail(`${step}: expected HTTP ${status}, got ${res.response.status}: ${body}`);
  }
  return res.data;
}

const baseUrl = env("SHOPVO_URL").replace(/\/+$/, "");
const siteId = env("SHOPVO_SITE");
const client = (headers: Record<string, string>) =>
  createClient<paths>({
    baseUrl,
    headers,
    fetch: (request) =>
      fetch(request).catch((err: unknown) =>
        fail(`${request.method} ${request.url}: ${err instanceof Error ? (err.cause ?? err.message) : err}`)),
  });
const path = { siteId };

// 1. Admin: a publishable test key for the storefront.
const admin = client({ Authorization: `Bearer ${env("SHOPVO_ADMIN_KEY")}` });
const created = expect("create a publishable key", 201,
  await admin.POST("/api/v1/{siteId}/api-keys", {
    params: { path },
    body: { publishable: true, test: true, name: "storefront example" },
  }));
const publishableKey = created.data.secret;
if (!publishableKey.startsWith("pk_test_")) fail(`expected a pk_test_ key, got ${publishableKey.slice(0, 8)}…`);
const shop = client({ Authorization: `Bearer ${publishableKey}` });
const site = expect("read the site", 200, await shop.GET("/api/v1/{siteId}/site", { params: { path } })).data;

// A shipping method for LV must exist: checkout refuses an address no method serves.
const country = "LV";
const methods = expect("list shipping methods", 200,
  await shop.GET("/api/v1/{siteId}/shipping-methods", { params: { path } }));
let method = methods.data.find((m) => m.active && (m.countries.length === 0 || m.countries.includes(country)));
if (!method) {
  method = expect("create a shipping method", 201,
    await admin.POST("/api/v1/{siteId}/shipping-methods", {
      params: { path },
      body: { name: "Standard", code: "standard", price: 500, countries: [country] },
    })).data;
  console.log(`created shipping method ${method.code} for ${country}`);
}

// 2. The shopper: an account, then every call as that customer.
const email = `shopper-${Date.now()}-${Math.floor(Math.random() * 1e6)}@example.com`;
const session = expect("register a customer", 201,
  await shop.POST("/api/v1/{siteId}/auth/register", {
    params: { path },
    body: { email, password: "correct horse battery staple", firstName: "Jane", lastName: "Smith" },
  }));
const customer = client({ Authorization: `Bearer ${publishableKey}`, "X-Customer-Token": session.data.accessToken });
console.log(`customer ${session.data.customer.id} <${email}>`);

const products = expect("list products", 200,
  await customer.GET("/api/v1/{siteId}/products", { params: { path, query: { expand: "variants", limit: 100 } } }));
let pick: { productId: string; variantId: string; name: string } | undefined;
for (const product of products.items) {
  const variant = product.variants?.find((v) => v.isDefault);
  if (product.status === "ACTIVE" && variant && variant.inventoryCount > 0) {
    pick = { productId: product.id, variantId: variant.id, name: `${product.name} (${variant.name})` };
    break;
  }
}
if (!pick) fail(`no ACTIVE product with a default variant in stock among ${products.items.length}`);
console.log(`product ${pick.productId}: ${pick.name}`);

const cart = expect("create a cart", 201,
  await customer.POST("/api/v1/{siteId}/cart", { params: { path }, body: { currency: site.currency } })).data;
const filled = expect("add an item", 200,
  await customer.PATCH("/api/v1/{siteId}/cart", {
    params: { path, query: { cartId: cart.id } },
    body: { action: "add", item: { productId: pick.productId, variantId: pick.variantId, quantity: 1 } },
  })).data;
console.log(`cart ${filled.id}: ${filled.items.length} line(s), subtotal ${filled.subtotal} ${filled.currency}`);

// 3. Checkout: contact → shipping → payment → review → complete.
let checkout = expect("start checkout", 201,
  await customer.POST("/api/v1/{siteId}/checkout", { params: { path }, body: { cartId: cart.id } })).data;
const steps: Omit<components["schemas"]["Advance"], "sessionId">[] = [
  { state: "contact", email },
  {
    state: "shipping",
    shippingMethodId: method.code,
    shippingAddress: {
      firstName: "Jane", lastName: "Smith", line1: "Brivibas 1", city: "Riga", postalCode: "LV-1010", country,
    },
  },
  { state: "payment", paymentMethod: "test" },
  { state: "review" },
  { state: "complete" },
];
for (const step of steps) {
  checkout = expect(`checkout ${step.state}`, 200,
    await customer.PATCH("/api/v1/{siteId}/checkout", { params: { path }, body: { ...step, sessionId: checkout.id } })).data;
  if (checkout.state !== step.state) fail(`checkout is in ${checkout.state} after asking for ${step.state}`);
}

const order = checkout.order;
if (!order) fail(`checkout ${checkout.id} is complete but has no order`);
console.log(`order ${order.number}: ${order.status}, payment ${order.paymentStatus}, total ${order.total} ${order.currency}`);
