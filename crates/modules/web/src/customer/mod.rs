//! The customer's web: browsing products and vouchers, the cart and checkout, orders, the
//! wallet with its rotating QR code, gifts and the account.

mod account;
mod browse;
mod cart;
mod checkout;
mod orders;
mod wallet;

use axum::routing::{get, post};
use axum::Router;

use crate::Web;

pub fn routes() -> Router<Web> {
    Router::new()
        .route("/", get(browse::home))
        .route("/products", get(browse::products))
        .route("/products/{id}", get(browse::product))
        .route("/offers", get(browse::offers))
        .route("/offers/{id}", get(browse::offer))
        .route("/offers/{id}/claim", post(browse::claim))
        .route("/cart", get(cart::show))
        .route("/cart/add", post(cart::add))
        .route("/cart/lines/{id}", post(cart::update))
        .route("/cart/lines/{id}/remove", post(cart::remove))
        .route("/checkout", get(checkout::review).post(checkout::place))
        .route("/checkout/{group}", get(checkout::choose_payment))
        .route("/checkout/{group}/pay", post(checkout::pay))
        .route("/payments/{id}", get(checkout::payment))
        .route("/payments/{id}/status", get(checkout::payment_status))
        .route("/payments/{id}/simulate", post(checkout::simulate))
        .route("/orders", get(orders::list))
        .route("/orders/{id}", get(orders::show))
        .route("/orders/{id}/cancel", post(orders::cancel))
        .route("/wallet", get(wallet::list))
        .route("/wallet/{id}", get(wallet::show))
        .route("/wallet/{id}/qr", get(wallet::qr))
        .route("/wallet/{id}/gift", post(wallet::gift))
        .route("/wallet/gifts/accept", post(wallet::accept_gift))
        .route("/account", get(account::show))
        .route("/account/addresses", post(account::add_address))
        .route(
            "/account/addresses/{id}/remove",
            post(account::remove_address),
        )
}
