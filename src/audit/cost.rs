//! Monthly cost estimates for findings where AWS publishes a fixed price: a load
//! balancer's hourly charge. Usage-based charges (LCUs) are never guessed.

use serde::{Deserialize, Serialize};

/// The month the estimates assume: 730 hours, as AWS's pricing calculator does.
pub const HOURS_PER_MONTH: u64 = 730;

/// The region the prices are taken from.
const PRICE_REGION: &str = "us-east-1";

/// An estimate, with the assumption it rests on spelled out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostEstimate {
    pub monthly_usd: f64,
    pub hourly_usd: f64,
    pub assumption: String,
}

/// The on-demand hourly price of a load balancer in us-east-1, in millionths of a
/// dollar: `application` and `network` $0.0225, `gateway` $0.0125.
fn lb_hourly_micro_usd(lb_type: &str) -> Option<u64> {
    match lb_type {
        "application" | "network" => Some(22_500),
        "gateway" => Some(12_500),
        _ => None,
    }
}

/// The hourly price in dollars, for docs and tests.
pub fn lb_hourly_usd(lb_type: &str) -> Option<f64> {
    lb_hourly_micro_usd(lb_type).map(|m| m as f64 / 1_000_000.0)
}

/// Cents, rounded half up, from millionths of a dollar (integers, so 16.425 is 16.43).
fn micro_to_usd(micro: u64) -> f64 {
    ((micro + 5_000) / 10_000) as f64 / 100.0
}

pub(super) fn load_balancer(lb_type: &str, region: &str) -> Option<CostEstimate> {
    let hourly = lb_hourly_micro_usd(lb_type)?;
    let elsewhere = if region == PRICE_REGION {
        String::new()
    } else {
        format!(" (the load balancer is in {region}, where the price differs)")
    };
    Some(CostEstimate {
        monthly_usd: micro_to_usd(hourly * HOURS_PER_MONTH),
        hourly_usd: hourly as f64 / 1_000_000.0,
        assumption: format!(
            "{lb_type} load balancer-hour at the {PRICE_REGION} on-demand price of ${} x {HOURS_PER_MONTH} h/month{elsewhere}; LCU charges excluded",
            hourly as f64 / 1_000_000.0
        ),
    })
}

pub(super) fn total_usd<'a>(estimates: impl Iterator<Item = &'a CostEstimate>) -> f64 {
    let cents: u64 = estimates
        .map(|e| (e.monthly_usd * 100.0).round() as u64)
        .sum();
    cents as f64 / 100.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alb_month_rounds_half_up_and_states_its_assumption() {
        let alb = load_balancer("application", "us-east-1").expect("priced");
        assert_eq!(alb.monthly_usd, 16.43);
        assert!(alb.assumption.contains("LCU charges excluded"));
        let gwlb = load_balancer("gateway", "eu-west-1").expect("priced");
        assert_eq!(gwlb.monthly_usd, 9.13);
        assert!(gwlb.assumption.contains("eu-west-1"));
        assert!(load_balancer("classic", "us-east-1").is_none());
        assert_eq!(total_usd([alb.clone(), alb].iter()), 32.86);
    }
}
