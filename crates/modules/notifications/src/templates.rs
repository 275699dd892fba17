//! Message templates per language (en, km, id; English when a translation is missing),
//! rendered with minijinja. Each template has a title (email subject, push title) and a body.

use minijinja::Environment;
use serde::Serialize;

/// `(template, locale, title, body)`.
const TEMPLATES: &[(&str, &str, &str, &str)] = &[
    ("welcome", "en", "Welcome to Pasar, {{ first_name }}",
     "Hello {{ first_name }},\n\nyour Pasar account is ready. Verify your email address to start buying vouchers and products from local merchants."),
    ("welcome", "km", "សូមស្វាគមន៍មកកាន់ Pasar, {{ first_name }}",
     "សួស្តី {{ first_name }},\n\nគណនី Pasar របស់អ្នករួចរាល់ហើយ។ សូមផ្ទៀងផ្ទាត់អាសយដ្ឋានអ៊ីមែលរបស់អ្នក ដើម្បីចាប់ផ្តើមទិញប័ណ្ណ និងផលិតផលពីអាជីវករក្នុងស្រុក។"),
    ("welcome", "id", "Selamat datang di Pasar, {{ first_name }}",
     "Halo {{ first_name }},\n\nakun Pasar Anda sudah siap. Verifikasi alamat email Anda untuk mulai membeli voucher dan produk dari merchant lokal."),
    ("verification_code", "en", "Your Pasar verification code",
     "Your verification code is {{ code }}. It expires in {{ minutes }} minutes. Never share it with anyone."),
    ("verification_code", "km", "លេខកូដផ្ទៀងផ្ទាត់ Pasar របស់អ្នក",
     "លេខកូដផ្ទៀងផ្ទាត់របស់អ្នកគឺ {{ code }}។ វានឹងផុតកំណត់ក្នុងរយៈពេល {{ minutes }} នាទី។ កុំចែករំលែកវាជាមួយនរណាម្នាក់។"),
    ("verification_code", "id", "Kode verifikasi Pasar Anda",
     "Kode verifikasi Anda adalah {{ code }}. Berlaku selama {{ minutes }} menit. Jangan bagikan kepada siapa pun."),
    ("password_reset", "en", "Reset your Pasar password",
     "Someone asked to reset the password of your Pasar account. Use this token within {{ minutes }} minutes:\n\n{{ token }}\n\nIf it was not you, ignore this message: your password stays as it is."),
    ("password_reset", "km", "កំណត់ពាក្យសម្ងាត់ Pasar របស់អ្នកឡើងវិញ",
     "មាននរណាម្នាក់បានស្នើសុំកំណត់ពាក្យសម្ងាត់គណនី Pasar របស់អ្នកឡើងវិញ។ សូមប្រើលេខសម្គាល់នេះក្នុងរយៈពេល {{ minutes }} នាទី៖\n\n{{ token }}\n\nប្រសិនបើមិនមែនជាអ្នកទេ សូមមិនអើពើសារនេះ។"),
    ("password_reset", "id", "Atur ulang kata sandi Pasar Anda",
     "Seseorang meminta pengaturan ulang kata sandi akun Pasar Anda. Gunakan token ini dalam {{ minutes }} menit:\n\n{{ token }}\n\nJika bukan Anda, abaikan pesan ini: kata sandi Anda tidak berubah."),
    ("password_changed", "en", "Your Pasar password was changed",
     "The password of your Pasar account was changed and your other devices were signed out. If this was not you, reset your password now."),
    ("password_changed", "km", "ពាក្យសម្ងាត់ Pasar របស់អ្នកត្រូវបានផ្លាស់ប្តូរ",
     "ពាក្យសម្ងាត់គណនី Pasar របស់អ្នកត្រូវបានផ្លាស់ប្តូរ ហើយឧបករណ៍ផ្សេងទៀតរបស់អ្នកត្រូវបានចាកចេញ។ ប្រសិនបើមិនមែនជាអ្នកទេ សូមកំណត់ពាក្យសម្ងាត់ឡើងវិញឥឡូវនេះ។"),
    ("password_changed", "id", "Kata sandi Pasar Anda telah diubah",
     "Kata sandi akun Pasar Anda telah diubah dan perangkat Anda yang lain telah dikeluarkan. Jika ini bukan Anda, segera atur ulang kata sandi Anda."),
    ("merchant_invitation", "en", "Join {{ business_name }} on Pasar",
     "You are invited to join {{ business_name }} on Pasar as {{ role }}. Sign in or create an account, then accept the invitation with this token before {{ expires_at }}:\n\n{{ token }}"),
    ("merchant_invitation", "km", "ចូលរួមជាមួយ {{ business_name }} នៅលើ Pasar",
     "អ្នកត្រូវបានអញ្ជើញឱ្យចូលរួមជាមួយ {{ business_name }} នៅលើ Pasar ជា {{ role }}។ សូមចូល ឬបង្កើតគណនី រួចទទួលយកការអញ្ជើញដោយប្រើលេខសម្គាល់នេះមុន {{ expires_at }}៖\n\n{{ token }}"),
    ("merchant_invitation", "id", "Bergabung dengan {{ business_name }} di Pasar",
     "Anda diundang bergabung dengan {{ business_name }} di Pasar sebagai {{ role }}. Masuk atau buat akun, lalu terima undangan dengan token ini sebelum {{ expires_at }}:\n\n{{ token }}"),
    ("merchant_approved", "en", "{{ business_name }} is live on Pasar",
     "Your merchant application for {{ business_name }} was approved. Add outlets and products, and submit them for review."),
    ("merchant_approved", "km", "{{ business_name }} បានដំណើរការនៅលើ Pasar",
     "ពាក្យស្នើសុំជាអាជីវកររបស់អ្នកសម្រាប់ {{ business_name }} ត្រូវបានអនុម័ត។ សូមបន្ថែមសាខា និងផលិតផល ហើយដាក់ស្នើឱ្យពិនិត្យ។"),
    ("merchant_approved", "id", "{{ business_name }} sudah aktif di Pasar",
     "Pengajuan merchant Anda untuk {{ business_name }} disetujui. Tambahkan outlet dan produk, lalu ajukan untuk ditinjau."),
    ("merchant_rejected", "en", "Your application for {{ business_name }}",
     "Your merchant application for {{ business_name }} was not approved: {{ reason }}. You may apply again with corrected details."),
    ("merchant_rejected", "km", "ពាក្យស្នើសុំរបស់អ្នកសម្រាប់ {{ business_name }}",
     "ពាក្យស្នើសុំជាអាជីវកររបស់អ្នកសម្រាប់ {{ business_name }} មិនត្រូវបានអនុម័តទេ៖ {{ reason }}។ អ្នកអាចដាក់ពាក្យម្តងទៀតជាមួយព័ត៌មានដែលបានកែតម្រូវ។"),
    ("merchant_rejected", "id", "Pengajuan Anda untuk {{ business_name }}",
     "Pengajuan merchant Anda untuk {{ business_name }} tidak disetujui: {{ reason }}. Anda dapat mengajukan kembali dengan data yang diperbaiki."),
    ("merchant_suspended", "en", "{{ business_name }} is suspended",
     "{{ business_name }} was suspended and its listings are hidden: {{ reason }}. Contact Pasar support to resolve it."),
    ("merchant_suspended", "km", "{{ business_name }} ត្រូវបានផ្អាក",
     "{{ business_name }} ត្រូវបានផ្អាក ហើយផលិតផលរបស់វាត្រូវបានលាក់៖ {{ reason }}។ សូមទាក់ទងផ្នែកជំនួយ Pasar ដើម្បីដោះស្រាយ។"),
    ("merchant_suspended", "id", "{{ business_name }} ditangguhkan",
     "{{ business_name }} ditangguhkan dan produknya disembunyikan: {{ reason }}. Hubungi dukungan Pasar untuk menyelesaikannya."),
    ("inventory_low", "en", "Low stock: {{ sku }}",
     "{{ business_name }}: only {{ available }} of {{ sku }} left (alert threshold {{ threshold }}). Restock soon to keep selling."),
    ("inventory_low", "km", "ស្តុកទាប៖ {{ sku }}",
     "{{ business_name }}៖ នៅសល់ {{ sku }} តែ {{ available }} ប៉ុណ្ណោះ (កម្រិតជូនដំណឹង {{ threshold }})។ សូមបំពេញស្តុកឆាប់ៗ ដើម្បីបន្តលក់។"),
    ("inventory_low", "id", "Stok menipis: {{ sku }}",
     "{{ business_name }}: {{ sku }} tinggal {{ available }} (batas peringatan {{ threshold }}). Segera isi ulang agar tetap bisa berjualan."),
    ("voucher_gift", "en", "You received a gift: {{ title }}",
     "Someone sent you a Pasar voucher: {{ title }}.{% if message %}\n\n\"{{ message }}\"{% endif %}\n\nSign in or create an account, then accept it before {{ expires_at }} with this token:\n\n{{ token }}"),
    ("voucher_gift", "km", "អ្នកបានទទួលកាដូ៖ {{ title }}",
     "មាននរណាម្នាក់បានផ្ញើប័ណ្ណ Pasar មកអ្នក៖ {{ title }}។{% if message %}\n\n\"{{ message }}\"{% endif %}\n\nសូមចូល ឬបង្កើតគណនី រួចទទួលយកវាមុន {{ expires_at }} ដោយប្រើលេខសម្គាល់នេះ៖\n\n{{ token }}"),
    ("voucher_gift", "id", "Anda menerima hadiah: {{ title }}",
     "Seseorang mengirimi Anda voucher Pasar: {{ title }}.{% if message %}\n\n\"{{ message }}\"{% endif %}\n\nMasuk atau buat akun, lalu terima sebelum {{ expires_at }} dengan token ini:\n\n{{ token }}"),
    ("voucher_expiring", "en", "Your voucher expires soon: {{ title }}",
     "Your voucher {{ title }} expires on {{ expires_at }} with {{ balance }} {{ currency }} left. Use it before then."),
    ("voucher_expiring", "km", "ប័ណ្ណរបស់អ្នកជិតផុតកំណត់៖ {{ title }}",
     "ប័ណ្ណ {{ title }} របស់អ្នកនឹងផុតកំណត់នៅ {{ expires_at }} ដោយនៅសល់ {{ balance }} {{ currency }}។ សូមប្រើវាមុនពេលនោះ។"),
    ("voucher_expiring", "id", "Voucher Anda segera berakhir: {{ title }}",
     "Voucher {{ title }} Anda berakhir pada {{ expires_at }} dengan sisa {{ balance }} {{ currency }}. Gunakan sebelum itu."),
    ("tier_changed", "en", "Your rewards tier is now {{ tier }}",
     "With {{ points }} qualifying points over the last 12 months, your rewards tier is now {{ tier }}."),
    ("tier_changed", "km", "កម្រិតរង្វាន់របស់អ្នកឥឡូវគឺ {{ tier }}",
     "ដោយមានពិន្ទុ {{ points }} ក្នុងរយៈពេល ១២ ខែចុងក្រោយ កម្រិតរង្វាន់របស់អ្នកឥឡូវគឺ {{ tier }}។"),
    ("tier_changed", "id", "Tingkat hadiah Anda sekarang {{ tier }}",
     "Dengan {{ points }} poin dalam 12 bulan terakhir, tingkat hadiah Anda sekarang {{ tier }}."),
    ("points_expiring", "en", "{{ points }} of your points expire soon",
     "{{ points }} of your rewards points expire on {{ expires_at }}. Redeem them at checkout before then."),
    ("points_expiring", "km", "ពិន្ទុ {{ points }} របស់អ្នកជិតផុតកំណត់",
     "ពិន្ទុរង្វាន់ {{ points }} របស់អ្នកនឹងផុតកំណត់នៅ {{ expires_at }}។ សូមប្រើវានៅពេលទូទាត់មុនពេលនោះ។"),
    ("points_expiring", "id", "{{ points }} poin Anda segera berakhir",
     "{{ points }} poin hadiah Anda berakhir pada {{ expires_at }}. Tukarkan saat checkout sebelum itu."),
    ("order_shipped", "en", "Order {{ order_number }} is on its way",
     "Your order {{ order_number }} was handed to {{ courier }}. Tracking number: {{ tracking_number }}."),
    ("order_shipped", "km", "ការបញ្ជាទិញ {{ order_number }} កំពុងធ្វើដំណើរ",
     "ការបញ្ជាទិញ {{ order_number }} របស់អ្នកត្រូវបានប្រគល់ឱ្យ {{ courier }}។ លេខតាមដាន៖ {{ tracking_number }}។"),
    ("order_shipped", "id", "Pesanan {{ order_number }} sedang dikirim",
     "Pesanan {{ order_number }} Anda telah diserahkan ke {{ courier }}. Nomor resi: {{ tracking_number }}."),
    ("order_out_for_delivery", "en", "Order {{ order_number }} arrives today",
     "{{ courier }} is out delivering your order {{ order_number }} (tracking number {{ tracking_number }}). Keep your phone nearby."),
    ("order_out_for_delivery", "km", "ការបញ្ជាទិញ {{ order_number }} នឹងមកដល់ថ្ងៃនេះ",
     "{{ courier }} កំពុងដឹកជញ្ជូនការបញ្ជាទិញ {{ order_number }} របស់អ្នក (លេខតាមដាន {{ tracking_number }})។ សូមទុកទូរស័ព្ទនៅជិតខ្លួន។"),
    ("order_out_for_delivery", "id", "Pesanan {{ order_number }} tiba hari ini",
     "{{ courier }} sedang mengantar pesanan {{ order_number }} Anda (nomor resi {{ tracking_number }}). Pastikan ponsel Anda aktif."),
    ("order_delivered", "en", "Order {{ order_number }} was delivered",
     "{{ courier }} delivered your order {{ order_number }}. Enjoy it, and tell others what you think with a review."),
    ("order_delivered", "km", "ការបញ្ជាទិញ {{ order_number }} ត្រូវបានដឹកជញ្ជូនដល់",
     "{{ courier }} បានដឹកជញ្ជូនការបញ្ជាទិញ {{ order_number }} របស់អ្នកដល់ហើយ។ សូមរីករាយ ហើយចែករំលែកមតិរបស់អ្នកតាមរយៈការវាយតម្លៃ។"),
    ("order_delivered", "id", "Pesanan {{ order_number }} telah diterima",
     "{{ courier }} telah mengantarkan pesanan {{ order_number }} Anda. Selamat menikmati, dan bagikan pendapat Anda lewat ulasan."),
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub locale: String,
    pub title: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("no template named {0}")]
    Missing(String),
    #[error("rendering {name}: {source}")]
    Render {
        name: String,
        #[source]
        source: minijinja::Error,
    },
}

pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub fn new() -> Self {
        let mut env = Environment::new();
        // Unknown variables are errors: a typo must not send "Hello ," to customers.
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for (name, locale, title, body) in TEMPLATES {
            // The names are static and unique, so adding cannot fail on a well-formed table;
            // a malformed template is caught by the test below.
            let _ = env.add_template_owned(format!("{name}.{locale}.title"), *title);
            let _ = env.add_template_owned(format!("{name}.{locale}.body"), *body);
        }
        Self { env }
    }

    /// Renders `name` in `locale`, falling back to English.
    pub fn render<C: Serialize>(
        &self,
        name: &str,
        locale: &str,
        context: &C,
    ) -> Result<Rendered, TemplateError> {
        let locale = if self
            .env
            .get_template(&format!("{name}.{locale}.title"))
            .is_ok()
        {
            locale
        } else {
            "en"
        };
        let part = |part: &str| {
            let key = format!("{name}.{locale}.{part}");
            let template = self
                .env
                .get_template(&key)
                .map_err(|_| TemplateError::Missing(key.clone()))?;
            template
                .render(minijinja::Value::from_serialize(context))
                .map_err(|source| TemplateError::Render { name: key, source })
        };
        Ok(Rendered {
            title: part("title")?,
            body: part("body")?,
            locale: locale.to_owned(),
        })
    }
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_template_renders_in_every_locale() {
        let templates = Templates::new();
        let context = json!({"first_name": "Dara", "code": "123456", "minutes": 10, "token": "t",
            "business_name": "Kopi Pagi", "role": "cashier", "expires_at": "2026-11-25T00:00:00Z",
            "reason": "missing licence", "sku": "TEA-1", "available": 3, "threshold": 5,
            "title": "Coffee card", "message": "Happy birthday", "balance": 2500, "currency": "USD",
            "tier": "Gold", "points": 250, "order_number": "ORD-1", "courier": "JNE",
            "tracking_number": "JNE00123456784"});
        for (name, locale, _, _) in TEMPLATES {
            let rendered = templates.render(name, locale, &context).unwrap();
            assert_eq!(rendered.locale, *locale);
            assert!(!rendered.title.is_empty() && !rendered.body.is_empty());
        }
    }

    #[test]
    fn renders_per_language_and_falls_back_to_english() {
        let templates = Templates::new();
        let code = json!({"code": "482913", "minutes": 10});
        let km = templates.render("verification_code", "km", &code).unwrap();
        assert!(km.body.contains("482913") && km.body.contains("លេខកូដ"));
        let id = templates.render("verification_code", "id", &code).unwrap();
        assert!(id.body.starts_with("Kode verifikasi Anda adalah 482913"));
        let fallback = templates.render("verification_code", "fr", &code).unwrap();
        assert_eq!(fallback.locale, "en");
        assert!(fallback
            .body
            .starts_with("Your verification code is 482913"));
    }

    #[test]
    fn missing_variables_and_templates_are_errors() {
        let templates = Templates::new();
        assert!(templates.render("welcome", "en", &json!({})).is_err());
        assert!(matches!(
            templates.render("nope", "en", &json!({})),
            Err(TemplateError::Missing(_))
        ));
    }
}
