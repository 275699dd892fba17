use serde::{Deserialize, Serialize};

/// ISO-4217 currencies the marketplace settles in. KHR and IDR have no minor unit in practice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum Currency {
    Usd,
    Khr,
    Idr,
}

impl Currency {
    /// Number of decimal digits of the minor unit.
    pub const fn exponent(self) -> u32 {
        match self {
            Currency::Usd => 2,
            Currency::Khr | Currency::Idr => 0,
        }
    }

    pub const fn code(self) -> &'static str {
        match self {
            Currency::Usd => "USD",
            Currency::Khr => "KHR",
            Currency::Idr => "IDR",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        match code {
            "USD" => Some(Currency::Usd),
            "KHR" => Some(Currency::Khr),
            "IDR" => Some(Currency::Idr),
            _ => None,
        }
    }
}

/// An amount in minor units of one currency. Arithmetic across currencies is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Money {
    pub amount_minor: i64,
    pub currency: Currency,
}

impl Money {
    pub const fn new(amount_minor: i64, currency: Currency) -> Self {
        Self {
            amount_minor,
            currency,
        }
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        Some(Money::new(
            self.amount_minor.checked_add(other.amount_minor)?,
            self.currency,
        ))
    }

    /// `amount × rate / 10_000`, rounded half away from zero. Rates are basis points so that
    /// commissions like 7.5 % stay exact integers.
    pub fn apply_basis_points(self, basis_points: i64) -> Option<Money> {
        let product = i128::from(self.amount_minor) * i128::from(basis_points);
        let half = 5_000i128 * product.signum();
        let rounded = (product + half) / 10_000;
        Some(Money::new(i64::try_from(rounded).ok()?, self.currency))
    }
}

/// How people read an amount: `1234` USD → `12.34 USD`, KHR → `1234 KHR`.
pub fn format_amount(amount: i64, currency: Currency) -> String {
    let exponent = currency.exponent();
    if exponent == 0 {
        return format!("{amount} {}", currency.code());
    }
    let unit = 10u64.pow(exponent);
    let sign = if amount < 0 { "-" } else { "" };
    let abs = amount.unsigned_abs();
    format!(
        "{sign}{}.{:0width$} {}",
        abs / unit,
        abs % unit,
        currency.code(),
        width = exponent as usize
    )
}

/// Splits `amount` over `weights` in proportion (largest remainder; ties to the earlier
/// index). The parts sum to `amount` when it is at most the weights' total, and no part is
/// above its weight.
pub fn spread(amount: i64, weights: &[i64]) -> Vec<i64> {
    let total: i64 = weights.iter().map(|w| (*w).max(0)).sum();
    if total <= 0 || amount <= 0 {
        return vec![0; weights.len()];
    }
    let amount = amount.min(total);
    let mut parts = Vec::with_capacity(weights.len());
    let mut remainders = Vec::with_capacity(weights.len());
    for (i, w) in weights.iter().enumerate() {
        let exact = i128::from(amount) * i128::from((*w).max(0));
        parts.push((exact / i128::from(total)) as i64);
        remainders.push((exact % i128::from(total), i));
    }
    let mut short = amount - parts.iter().sum::<i64>();
    remainders.sort_by_key(|(r, i)| (std::cmp::Reverse(*r), *i));
    for (_, i) in remainders {
        if short == 0 {
            break;
        }
        if parts[i] < weights[i] {
            parts[i] += 1;
            short -= 1;
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_in_major_units() {
        assert_eq!(format_amount(1_005, Currency::Usd), "10.05 USD");
        assert_eq!(format_amount(7, Currency::Usd), "0.07 USD");
        assert_eq!(format_amount(-150, Currency::Usd), "-1.50 USD");
        assert_eq!(format_amount(40_000, Currency::Khr), "40000 KHR");
    }

    #[test]
    fn basis_points_round_half_away_from_zero() {
        let m = Money::new(1_005, Currency::Usd);
        // 1005 × 7.5 % = 75.375 → 75
        assert_eq!(m.apply_basis_points(750).unwrap().amount_minor, 75);
        // 10 × 5 % = 0.5 → 1
        assert_eq!(
            Money::new(10, Currency::Usd)
                .apply_basis_points(500)
                .unwrap()
                .amount_minor,
            1
        );
        assert_eq!(
            Money::new(-10, Currency::Usd)
                .apply_basis_points(500)
                .unwrap()
                .amount_minor,
            -1
        );
    }

    #[test]
    fn refuses_mixed_currencies() {
        let usd = Money::new(1, Currency::Usd);
        let khr = Money::new(1, Currency::Khr);
        assert!(usd.checked_add(khr).is_none());
        assert_eq!(usd.checked_add(usd).unwrap().amount_minor, 2);
    }

    #[test]
    fn currency_exponents() {
        assert_eq!(Currency::Usd.exponent(), 2);
        assert_eq!(Currency::Khr.exponent(), 0);
        assert_eq!(Currency::parse("IDR"), Some(Currency::Idr));
        assert_eq!(Currency::parse("EUR"), None);
    }
}
