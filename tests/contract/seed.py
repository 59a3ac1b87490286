"""Seeds the demo site with one resource of every kind the API has and prints a schemathesis config
that pins every path parameter to a real id, so the fuzzer reaches past the 404s.

    python3 seed.py URL SITE KEY > schemathesis.toml

Standard library only. Every request goes to URL (loopback in CI); the webhook target is on 127.0.0.1 and
the server runs with its jobs off, so nothing is ever delivered.
"""

import json
import sys
import urllib.error
import urllib.request

url, site, key = sys.argv[1:4]
base = f"{url}/api/v1/{site}"


def call(method, path, body=None, status=(200, 201, 202)):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {key}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req) as res:
            code, text = res.status, res.read()
    except urllib.error.HTTPError as err:
        code, text = err.code, err.read()
    if code not in status:
        sys.exit(f"seed.py: {method} {path} answered {code}: {text.decode(errors='replace')}")
    if not text:
        return None
    body = json.loads(text)
    return body["items"] if "items" in body else body["data"]


ids = {"siteId": site}

# A second key, so that fuzzing `DELETE /api-keys/{keyId}` revokes that one and not the key the run uses.
spare = call("POST", "/api-keys", {"name": "contract spare", "scopes": ["read:catalog"]})
ids["keyId"] = spare["id"]

product = call("GET", "/products?limit=1&expand[]=variants")[0]
ids["productId"] = product["id"]
ids["variantId"] = product["variants"][0]["id"]
ids["brandId"] = call("GET", "/brands")[0]["id"]
ids["categoryId"] = call("GET", "/categories")[0]["id"]

customer = call(
    "POST", "/customers", {"email": "contract@example.com", "firstName": "Jane", "lastName": "Smith"}
)
ids["customerId"] = customer["id"]
address = {
    "firstName": "Jane",
    "lastName": "Smith",
    "line1": "Brivibas iela 1",
    "city": "Riga",
    "postalCode": "LV-1010",
    "country": "LV",
}
ids["addressId"] = call("POST", f"/customers/{customer['id']}/addresses", address)["id"]
call("POST", "/customer-groups", {"name": "Wholesale"})

ids["locationId"] = call("POST", "/locations", {"name": "Riga shop", "address": {"city": "Riga", "country": "LV"}})["id"]
ids["promotionId"] = call("POST", "/promotions", {"code": "CONTRACT10", "type": "PERCENTAGE", "value": 10})["id"]
method = call(
    "POST", "/shipping-methods", {"name": "Standard", "code": "standard", "price": 499, "countries": ["LV"]}
)
ids["methodId"] = method["id"]
ids["taxRateId"] = call("POST", "/tax-rates", {"country": "LV", "percentage": 21, "name": "PVN"})["id"]

webhook = call("POST", "/webhooks", {"url": "http://127.0.0.1:9/hooks", "events": ["order.created"]})
ids["webhookId"] = webhook["id"]
call("POST", f"/webhooks/{webhook['id']}/test")
deliveries = call("GET", f"/webhooks/{webhook['id']}/deliveries")
if not deliveries:
    sys.exit("seed.py: the test event made no delivery")
ids["deliveryId"] = deliveries[0]["id"]

# One order, placed the only way there is: a cart walked through checkout.
def filled_cart():
    cart = call("POST", "/cart", {"currency": "EUR"})
    item = {"productId": ids["productId"], "variantId": ids["variantId"], "quantity": 1}
    call("PATCH", f"/cart?cartId={cart['id']}", {"action": "add", "item": item})
    return cart["id"]


session = call("POST", "/checkout", {"cartId": filled_cart()})
for step in (
    {"state": "contact", "email": "contract@example.com"},
    {"state": "shipping", "shippingMethodId": "standard", "shippingAddress": address},
    {"state": "payment", "paymentMethod": "test"},
    {"state": "review"},
    {"state": "complete"},
):
    session = call("PATCH", "/checkout", {**step, "sessionId": session["id"]})
ids["orderId"] = session["order"]["id"]

# An open cart for the cart operations, and a checkout begun on another for the checkout operations.
ids["cartId"] = filled_cart()
ids["sessionId"] = call("POST", "/checkout", {"cartId": filled_cart()})["id"]

print("# Written by tests/contract/seed.py: real ids for every path parameter.")
print("[parameters]")
for name, value in ids.items():
    print(f'{name} = "{value}"')
