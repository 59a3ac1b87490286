//! MOOD MNKY's JSON shapes, out of the domain's models: camelCase fields, money as decimal numbers in major
//! units, lowercase statuses, order numbers `MNKY-<n>`.

use serde_json::{Value, json};

use crate::compat::money::{major_units as money, major_units_opt as money_opt};
use crate::domain::catalog::products::ProductStatus;
use crate::domain::catalog::{Product, Variant};
use crate::domain::customers::{Address, Customer};
use crate::domain::orders::{Order, OrderItem, OrderStatus, PaymentStatus};

/// The prefix of MOOD MNKY order numbers; the digits are the native order number's.
pub const ORDER_PREFIX: &str = "MNKY-";

/// `ORD-1042` → `MNKY-1042`.
pub fn order_number(native: &str) -> String {
    format!(
        "{ORDER_PREFIX}{}",
        native.strip_prefix("ORD-").unwrap_or(native)
    )
}

/// `MNKY-1042` → `ORD-1042`; anything else (a native id or number) as it is.
pub fn native_order_ref(id: &str) -> String {
    match id.strip_prefix(ORDER_PREFIX) {
        Some(digits) => format!("ORD-{digits}"),
        None => id.to_string(),
    }
}

pub fn product_status(s: ProductStatus) -> &'static str {
    match s {
        ProductStatus::Active => "active",
        ProductStatus::Draft => "draft",
        ProductStatus::Archived => "archived",
    }
}

pub fn parse_product_status(s: &str) -> Option<ProductStatus> {
    match s {
        "active" => Some(ProductStatus::Active),
        "draft" => Some(ProductStatus::Draft),
        "archived" => Some(ProductStatus::Archived),
        _ => None,
    }
}

fn variant(v: &Variant, product_price: i64) -> Value {
    json!({
        "id": v.id,
        "name": v.name,
        "sku": v.sku,
        "price": money(v.price.unwrap_or(product_price)),
        "compareAtPrice": money_opt(v.compare_at_price),
        "options": v.options,
        "isDefault": v.is_default,
        "inventory": v.inventory_count.max(0),
        "inStock": v.backorders || v.inventory_count > 0,
    })
}

pub fn product(p: &Product, currency: &str) -> Value {
    let variants = p.variants.as_deref().unwrap_or_default();
    let default = variants.iter().find(|v| v.is_default).or(variants.first());
    let quantity: i64 = variants
        .iter()
        .map(|v| i64::from(v.inventory_count.max(0)))
        .sum();
    let in_stock = variants
        .iter()
        .any(|v| v.backorders || v.inventory_count > 0);
    json!({
        "id": p.id,
        "name": p.name,
        "slug": p.slug,
        "description": p.description,
        "price": money(p.price),
        "compareAtPrice": money_opt(p.compare_at_price),
        "currency": currency,
        "sku": default.and_then(|v| v.sku.clone()),
        "status": product_status(p.status),
        "featured": p.featured,
        "vendor": p.vendor,
        "images": p.images,
        "categories": p.category_ids,
        "category": p.category_ids.first(),
        "variants": variants.iter().map(|v| variant(v, p.price)).collect::<Vec<_>>(),
        "inventory": {"quantity": quantity, "inStock": in_stock},
        "rating": p.average_rating,
        "reviewCount": p.review_count,
        "createdAt": p.created_at,
        "updatedAt": p.updated_at,
    })
}

/// MOOD MNKY's order status for a native order: the fulfilment stage once it moved, else where payment is.
pub fn order_status(o: &Order) -> &'static str {
    match o.status {
        OrderStatus::Cancelled => "cancelled",
        OrderStatus::Refunded => "refunded",
        OrderStatus::Delivered => "delivered",
        OrderStatus::Shipped => "shipped",
        OrderStatus::Processing => "processing",
        OrderStatus::Pending | OrderStatus::Confirmed => match o.payment_status {
            PaymentStatus::Paid => "paid",
            PaymentStatus::Refunded | PaymentStatus::PartiallyRefunded => "refunded",
            PaymentStatus::Pending | PaymentStatus::Failed
                if o.status == OrderStatus::Confirmed =>
            {
                "created"
            }
            PaymentStatus::Pending | PaymentStatus::Failed => "payment_pending",
        },
    }
}

fn payment_status(s: PaymentStatus) -> &'static str {
    match s {
        PaymentStatus::Pending => "pending",
        PaymentStatus::Paid => "paid",
        PaymentStatus::Failed => "failed",
        PaymentStatus::Refunded => "refunded",
        PaymentStatus::PartiallyRefunded => "partially_refunded",
    }
}

fn order_item(i: &OrderItem) -> Value {
    json!({
        "id": i.id,
        "productId": i.product_id,
        "variantId": i.variant_id,
        "name": i.name,
        "sku": i.sku,
        "quantity": i.quantity,
        "price": money(i.unit_price),
        "total": money(i.total),
        "customizations": i.customizations,
    })
}

pub fn order(o: &Order) -> Value {
    let number = order_number(&o.number);
    json!({
        "id": o.id,
        "orderNumber": number,
        "status": order_status(o),
        "paymentStatus": payment_status(o.payment_status),
        "customerId": o.customer_id,
        "email": o.email,
        "currency": o.currency,
        "items": o.items.iter().map(order_item).collect::<Vec<_>>(),
        "subtotal": money(o.subtotal),
        "discount": money(o.discount),
        "shipping": money(o.shipping),
        "tax": money(o.tax),
        "total": money(o.total),
        "discountCode": o.promotion_code,
        "shippingAddress": o.shipping_address,
        "shippingMethod": o.shipping_method,
        "paymentMethod": o.payment_method,
        "trackingNumber": o.tracking_number,
        "trackingUrl": o.tracking_url,
        "notes": o.notes,
        "createdAt": o.created_at,
        "updatedAt": o.updated_at,
    })
}

pub fn customer(c: &Customer) -> Value {
    json!({
        "id": c.id,
        "email": c.email,
        "firstName": c.first_name,
        "lastName": c.last_name,
        "phone": c.phone,
        "acceptsMarketing": c.accepts_marketing,
        "preferences": c.preferences,
        "totalOrders": c.total_orders,
        "totalSpent": money(c.total_spent),
        "createdAt": c.created_at,
        "updatedAt": c.updated_at,
    })
}

pub fn address(a: &Address) -> Value {
    json!({
        "id": a.id,
        "firstName": a.first_name,
        "lastName": a.last_name,
        "company": a.company,
        "address1": a.line1,
        "address2": a.line2,
        "city": a.city,
        "state": a.province,
        "postalCode": a.postal_code,
        "country": a.country,
        "phone": a.phone,
        "isDefault": a.is_default,
    })
}
