//! What admins hear about the platform's own work (payments waiting for an operator, voucher
//! books ready): `(template, locale, title, body)`.

pub(super) const TEMPLATES: &[(&str, &str, &str, &str)] = &[
    ("payments_awaiting", "en", "Payments are waiting for an operator",
     "{{ verifications }} bank transfer(s) to verify and {{ refunds }} refund(s) to pay back by hand are waiting, the oldest since {{ oldest_since }}. Open the admin list of payments awaiting operators."),
    ("payments_awaiting", "km", "ការបង់ប្រាក់កំពុងរង់ចាំប្រតិបត្តិករ",
     "មានការផ្ទេរប្រាក់តាមធនាគារ {{ verifications }} ដែលត្រូវផ្ទៀងផ្ទាត់ និងការសងប្រាក់វិញ {{ refunds }} ដែលត្រូវធ្វើដោយដៃ កំពុងរង់ចាំ ចាស់ជាងគេតាំងពី {{ oldest_since }}។ សូមបើកបញ្ជីការបង់ប្រាក់ដែលកំពុងរង់ចាំរបស់អ្នកគ្រប់គ្រង។"),
    ("payments_awaiting", "id", "Pembayaran menunggu operator",
     "{{ verifications }} transfer bank perlu diverifikasi dan {{ refunds }} pengembalian dana perlu dibayar manual, yang tertua sejak {{ oldest_since }}. Buka daftar admin pembayaran yang menunggu operator."),
    ("voucher_book_ready", "en", "Voucher book {{ title }} is ready for print",
     "The voucher book {{ title }} ({{ edition }}) is ready: {{ pages }} pages with {{ vouchers }} printed voucher(s). Check the PDF, then publish it."),
    ("voucher_book_ready", "km", "សៀវភៅប័ណ្ណ {{ title }} រួចរាល់សម្រាប់បោះពុម្ព",
     "សៀវភៅប័ណ្ណ {{ title }} ({{ edition }}) រួចរាល់ហើយ៖ {{ pages }} ទំព័រ ជាមួយប័ណ្ណបោះពុម្ព {{ vouchers }}។ សូមពិនិត្យ PDF រួចផ្សព្វផ្សាយវា។"),
    ("voucher_book_ready", "id", "Buku voucher {{ title }} siap cetak",
     "Buku voucher {{ title }} ({{ edition }}) sudah siap: {{ pages }} halaman dengan {{ vouchers }} voucher cetak. Periksa PDF-nya, lalu terbitkan."),
];
