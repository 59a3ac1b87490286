//! Paying at checkout with gift cards, store credit and loyalty points: applied in the totals, spent inside
//! `complete` (a refusal spends nothing and places nothing), earned when paid, and given back when the
//! order is cancelled or refunded.

mod common;

use common::{TestApp, assert_error, assert_unprocessable, spawn_unlimited, str_of};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

struct Shop {
    app: TestApp,
    product: String,
    variant: String,
    method: String,
    ana: String,
}

/// A 5000 product (stock 100), shipping 500 to Latvia, no tax; a customer; an enabled program (1 point per
/// currency unit, a point worth 1 minor unit).
async fn shop() -> Shop {
    let app = spawn_unlimited().await;
    let p = app
        .product(json!({"name": "Lamp", "price": 5000, "variants": [{"sku": "LAMP", "inventoryCount": 100}]}))
        .await;
    let method = str_of(
        &app.post(
            "/shipping-methods",
            json!({"name": "Standard", "code": "standard", "price": 500, "countries": ["LV"]}),
        )
        .await["data"]["id"],
    );
    let ana = str_of(
        &app.post("/customers", json!({"email": "ana@example.com"}))
            .await["data"]["id"],
    );
    let (status, body) = app
        .admin(
            Method::PUT,
            "/loyalty/program",
            Some(json!({"enabled": true, "pointsPerCurrencyUnit": 1, "redemptionRate": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    Shop {
        product: str_of(&p["id"]),
        variant: str_of(&p["variants"][0]["id"]),
        method,
        ana,
        app,
    }
}

impl Shop {
    async fn gift_card(&self, amount: i64) -> (String, String) {
        let card = self
            .app
            .post("/gift-cards", json!({"initialBalance": amount}))
            .await["data"]
            .clone();
        (str_of(&card["id"]), str_of(&card["code"]))
    }

    async fn credit(&self, amount: i64) {
        self.app
            .post(
                &format!("/store-credit/{}", self.ana),
                json!({"type": "CREDIT", "amount": amount}),
            )
            .await;
    }

    async fn award(&self, points: i64) {
        self.app
            .post(
                &format!("/loyalty/{}/award", self.ana),
                json!({"points": points}),
            )
            .await;
    }

    async fn patch(&self, body: Value) -> (StatusCode, Value) {
        self.app.admin(Method::PATCH, "/checkout", Some(body)).await
    }

    /// A checkout of one lamp for the customer (or a guest), moved to `payment` with `payment`'s fields.
    async fn to_payment(&self, customer: bool, payment: Value) -> (String, (StatusCode, Value)) {
        let cart = str_of(&self.app.post("/cart", json!({"currency": "EUR"})).await["data"]["id"]);
        let (status, body) = self
            .app
            .admin(
                Method::PATCH,
                &format!("/cart?cartId={cart}"),
                Some(json!({"action": "add", "item": {"productId": self.product, "variantId": self.variant, "quantity": 1}})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let session =
            str_of(&self.app.post("/checkout", json!({"cartId": cart})).await["data"]["id"]);
        let mut contact =
            json!({"sessionId": session, "state": "contact", "email": "ana@example.com"});
        if customer {
            contact["customerId"] = json!(self.ana);
        }
        let address = json!({"firstName": "Ana", "lastName": "Ozola", "line1": "Brīvības iela 1", "city": "Rīga",
            "postalCode": "LV-1010", "country": "LV"});
        for body in [
            contact,
            json!({"sessionId": session, "state": "shipping", "shippingAddress": address, "shippingMethodId": self.method}),
        ] {
            let (status, res) = self.patch(body).await;
            assert_eq!(status, StatusCode::OK, "{res}");
        }
        let mut body = json!({"sessionId": session, "state": "payment", "paymentMethod": "manual"});
        for (k, v) in payment.as_object().unwrap() {
            body[k] = v.clone();
        }
        let res = self.patch(body).await;
        (session, res)
    }

    async fn review_and_complete(&self, session: &str) -> (StatusCode, Value) {
        let (status, body) = self
            .patch(json!({"sessionId": session, "state": "review"}))
            .await;
        if status != StatusCode::OK {
            return (status, body);
        }
        self.patch(json!({"sessionId": session, "state": "complete"}))
            .await
    }

    async fn card_balance(&self, id: &str) -> i64 {
        self.app
            .count(&format!("select balance from gift_cards where id = '{id}'"))
            .await
    }

    async fn store_credit(&self) -> i64 {
        self.app
            .count(&format!(
                "select coalesce((select balance from store_credit_accounts where customer_id = '{}'), 0)",
                self.ana
            ))
            .await
    }

    async fn points(&self) -> i64 {
        self.app
            .count(&format!(
                "select coalesce((select points from loyalty_accounts where customer_id = '{}'), 0)",
                self.ana
            ))
            .await
    }

    async fn orders(&self) -> i64 {
        self.app.count("select count(*) from orders").await
    }

    async fn order_patch(&self, order: &str, body: Value) -> Value {
        let (status, res) = self
            .app
            .admin(Method::PATCH, &format!("/orders/{order}"), Some(body))
            .await;
        assert_eq!(status, StatusCode::OK, "{res}");
        res["data"].clone()
    }
}

#[tokio::test]
async fn gift_card_store_credit_and_points_pay_and_come_back_on_refund() {
    let shop = shop().await;
    let (card, code) = shop.gift_card(2000).await;
    shop.credit(1000).await;
    shop.award(300).await;

    let payment = json!({"giftCardCodes": [code.to_lowercase()], "storeCreditAmount": 1000, "loyaltyPoints": 300});
    let (session, (status, body)) = shop.to_payment(true, payment).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // 5000 − 300 points + 500 shipping = 5200; the card pays 2000 and credit 1000.
    let data = &body["data"];
    assert_eq!(data["totals"]["discount"], 300);
    assert_eq!(data["totals"]["total"], 5200);
    let balances = &data["balances"];
    assert_eq!(balances["giftCardAmount"], 2000);
    assert_eq!(balances["giftCards"][0]["giftCardId"], card);
    assert_eq!(
        balances["giftCards"][0]["lastCharacters"],
        json!(&code[code.len() - 4..])
    );
    assert!(
        !body.to_string().contains(&code),
        "the code is never shown: {body}"
    );
    assert_eq!(balances["storeCreditAmount"], 1000);
    assert_eq!(balances["loyaltyPoints"], 300);
    assert_eq!(balances["loyaltyDiscount"], 300);
    assert_eq!(balances["amountDue"], 2200);
    // Nothing is spent before `complete`.
    assert_eq!(shop.card_balance(&card).await, 2000);

    let (status, body) = shop.review_and_complete(&session).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let order = body["data"]["order"].clone();
    assert_eq!(order["paymentStatus"], "PENDING");
    assert_eq!(order["balances"]["amountDue"], 2200);
    let order_id = str_of(&order["id"]);
    assert_eq!(shop.card_balance(&card).await, 0);
    assert_eq!(shop.store_credit().await, 0);
    assert_eq!(shop.points().await, 0);

    // Paid: the order earns 1 point per currency unit of 5000 − 300.
    shop.order_patch(&order_id, json!({"paymentStatus": "PAID"}))
        .await;
    assert_eq!(shop.points().await, 47);
    let earned = shop
        .app
        .count(&format!(
            "select count(*) from loyalty_transactions where order_id = '{order_id}' and type = 'EARN' and points = 47"
        ))
        .await;
    assert_eq!(earned, 1);

    // Refunded: everything spent comes back and the earning is taken back, once.
    shop.order_patch(&order_id, json!({"status": "REFUNDED"}))
        .await;
    assert_eq!(shop.card_balance(&card).await, 2000);
    assert_eq!(shop.store_credit().await, 1000);
    assert_eq!(shop.points().await, 300);
    shop.order_patch(&order_id, json!({"notes": "refunded by phone"}))
        .await;
    assert_eq!(shop.card_balance(&card).await, 2000);
    assert_eq!(shop.store_credit().await, 1000);
    assert_eq!(shop.points().await, 300);
    let account = shop.app.get(&format!("/loyalty/{}", shop.ana)).await;
    assert_eq!(account["data"]["lifetimePoints"], 300);
    // The store credit debit the order made cannot be voided by hand: the refund returned it.
    let debit: String = sqlx::query_scalar(
        "select id from store_credit_transactions where type = 'DEBIT' and order_id = $1",
    )
    .bind(&order_id)
    .fetch_one(&shop.app.pool)
    .await
    .unwrap();
    let res = shop
        .app
        .admin(
            Method::POST,
            &format!("/store-credit/{}/transactions/{debit}/void", shop.ana),
            None,
        )
        .await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    assert_eq!(shop.store_credit().await, 1000);
}

#[tokio::test]
async fn a_failed_spend_at_complete_spends_nothing_and_places_nothing() {
    let shop = shop().await;
    let (card, code) = shop.gift_card(2000).await;
    shop.credit(1000).await;
    shop.award(300).await;
    let payment = json!({"giftCardCodes": [code], "storeCreditAmount": 1000, "loyaltyPoints": 300});
    let (session, (status, body)) = shop.to_payment(true, payment).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = shop
        .patch(json!({"sessionId": session, "state": "review"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The store credit is spent elsewhere between review and complete.
    shop.app
        .post(
            &format!("/store-credit/{}", shop.ana),
            json!({"type": "DEBIT", "amount": 600}),
        )
        .await;
    let res = shop
        .patch(json!({"sessionId": session, "state": "complete"}))
        .await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    assert_eq!(shop.orders().await, 0);
    assert_eq!(shop.card_balance(&card).await, 2000);
    assert_eq!(shop.store_credit().await, 400);
    assert_eq!(shop.points().await, 300);
    let on_hand = shop
        .app
        .count("select sum(on_hand)::bigint from stock_levels")
        .await;
    assert_eq!(on_hand, 100);
    let redemptions = shop
        .app
        .count("select count(*) from gift_card_transactions where kind = 'REDEEM'")
        .await;
    assert_eq!(redemptions, 0);

    // A void card stops the checkout at review and complete too.
    shop.app
        .admin(
            Method::PATCH,
            &format!("/gift-cards/{card}"),
            Some(json!({"status": "VOID"})),
        )
        .await;
    let res = shop.review_and_complete(&session).await;
    assert_error(&res, StatusCode::CONFLICT, "GIFT_CARD_UNUSABLE");
    assert_eq!(shop.orders().await, 0);
}

#[tokio::test]
async fn what_a_payment_step_may_ask_for() {
    let shop = shop().await;
    let (card, code) = shop.gift_card(1000).await;
    shop.credit(500).await;

    let (_, res) = shop
        .to_payment(true, json!({"giftCardCodes": ["GIFT-NOPE-NOPE"]}))
        .await;
    assert_unprocessable(&res, "giftCardCodes[0]");
    let (_, res) = shop
        .to_payment(true, json!({"giftCardCodes": [code, code]}))
        .await;
    assert_unprocessable(&res, "giftCardCodes[1]");
    let (_, res) = shop
        .to_payment(false, json!({"storeCreditAmount": 100}))
        .await;
    assert_unprocessable(&res, "storeCreditAmount");
    let (_, res) = shop.to_payment(false, json!({"loyaltyPoints": 10})).await;
    assert_unprocessable(&res, "loyaltyPoints");
    let (_, res) = shop
        .to_payment(true, json!({"storeCreditAmount": 501}))
        .await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    let (_, res) = shop.to_payment(true, json!({"loyaltyPoints": 1})).await;
    assert_error(&res, StatusCode::CONFLICT, "INSUFFICIENT_POINTS");
    let (_, res) = shop
        .to_payment(true, json!({"storeCreditAmount": -1}))
        .await;
    assert_eq!(res.0, StatusCode::BAD_REQUEST, "{}", res.1);
    shop.app
        .admin(
            Method::PATCH,
            &format!("/gift-cards/{card}"),
            Some(json!({"status": "VOID"})),
        )
        .await;
    let (_, res) = shop
        .to_payment(true, json!({"giftCardCodes": [code]}))
        .await;
    assert_error(&res, StatusCode::CONFLICT, "CONFLICT");
    assert!(!res.1.to_string().contains(&code), "{}", res.1);
    // None of these left a session at `payment`.
    let at_payment = shop
        .app
        .count("select count(*) from checkout_sessions where state <> 'shipping'")
        .await;
    assert_eq!(at_payment, 0);
}

#[tokio::test]
async fn balances_that_cover_everything_pay_the_order_and_a_cancel_returns_them() {
    let shop = shop().await;
    let (big, big_code) = shop.gift_card(4000).await;
    let (small, small_code) = shop.gift_card(3000).await;
    shop.credit(800).await;
    // The first card pays 4000 of 5500, the second the other 1500; store credit is not needed.
    let payment = json!({"giftCardCodes": [big_code, small_code], "storeCreditAmount": 800});
    let (session, (status, body)) = shop.to_payment(true, payment).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["balances"]["storeCreditAmount"], 0);
    assert_eq!(body["data"]["balances"]["amountDue"], 0);
    let (status, body) = shop.review_and_complete(&session).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let order = &body["data"]["order"];
    assert_eq!(order["paymentStatus"], "PAID");
    assert_eq!(order["balances"]["giftCardAmount"], 5500);
    assert_eq!(shop.card_balance(&big).await, 0);
    assert_eq!(shop.card_balance(&small).await, 1500);
    assert_eq!(shop.store_credit().await, 800);
    // Paid at placement: the customer earned 50 points at once.
    assert_eq!(shop.points().await, 50);

    let order_id = str_of(&order["id"]);
    shop.order_patch(&order_id, json!({"status": "CANCELLED"}))
        .await;
    assert_eq!(shop.card_balance(&big).await, 4000);
    assert_eq!(shop.card_balance(&small).await, 3000);
    assert_eq!(shop.points().await, 0);
    let ledger = shop
        .app
        .get(&format!("/gift-cards/{big}/transactions"))
        .await;
    let kinds: Vec<String> = ledger["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| str_of(&t["kind"]))
        .collect();
    assert_eq!(kinds, ["ISSUE", "REDEEM", "RETURN"]);
}

#[tokio::test]
async fn two_checkouts_racing_for_one_card_spend_it_once() {
    let shop = shop().await;
    let (card, code) = shop.gift_card(5500).await;
    let mut sessions = Vec::new();
    for _ in 0..2 {
        let (session, (status, body)) = shop
            .to_payment(false, json!({"giftCardCodes": [code]}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let (status, body) = shop
            .patch(json!({"sessionId": session, "state": "review"}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        sessions.push(session);
    }
    let completes = sessions
        .iter()
        .map(|s| shop.patch(json!({"sessionId": s, "state": "complete"})));
    let results = futures::future::join_all(completes).await;
    let placed = results.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    assert_eq!(placed, 1, "{results:?}");
    assert!(
        results.iter().any(|(s, _)| *s == StatusCode::CONFLICT),
        "{results:?}"
    );
    assert_eq!(shop.orders().await, 1);
    assert_eq!(shop.card_balance(&card).await, 0);
}
