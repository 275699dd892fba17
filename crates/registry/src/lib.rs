//! The one list of Pasar's modules: the binary serves these, the test kit runs them. A new
//! module is added here (and to the workspace), nowhere else.

use platform::Module;

/// Every module, in the order their migrations and start hooks run.
pub fn modules() -> Vec<Module> {
    vec![
        identity::module(),
        notifications::module(),
        merchants::module(),
        catalog::module(),
        inventory::module(),
        cart::module(),
        promotions::module(),
        flashsales::module(),
        loyalty::module(),
        orders::module(),
        payments::module(),
        vouchers::module(),
        reviews::module(),
        ledger::module(),
        search::module(),
        media::module(),
        shipping::module(),
        chat::module(),
        books::module(),
        // The portals call the others' public routes, in this process or through the gateway.
        web::module(),
        // Last: it reads every other module's events.
        analytics::module(),
    ]
}
