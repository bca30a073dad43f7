//! Reads criterion's saved estimates and prints ratios of medians, so the
//! README's ratios come from the same run as the times.

use std::path::PathBuf;

/// Median time in nanoseconds of `group/id` from its latest run, if saved.
fn median_ns(group: &str, id: &str) -> Option<f64> {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"),
        PathBuf::from,
    );
    let path = target
        .join("criterion")
        .join(group)
        .join(id)
        .join("new")
        .join("estimates.json");
    let json = std::fs::read_to_string(path).ok()?;
    // {"mean":{…},"median":{"confidence_interval":{…},"point_estimate":123.4,…},…}
    let median = &json[json.find("\"median\"")?..];
    let value = &median[median.find("\"point_estimate\":")? + "\"point_estimate\":".len()..];
    let end = value.find([',', '}'])?;
    value[..end].trim().parse().ok()
}

/// Prints `label: a / b = ratio` for each `(label, a, b)` of `group`.
pub fn print(group: &str, ratios: &[(&str, &str, &str)]) {
    println!("\nratios of medians ({group}):");
    for (label, a, b) in ratios {
        match (median_ns(group, a), median_ns(group, b)) {
            (Some(ta), Some(tb)) => {
                println!(
                    "  {label:<28} {ratio:.3}   ({ta:.1} ns / {tb:.1} ns)",
                    ratio = ta / tb
                );
            }
            _ => println!("  {label:<28} (not measured in this run)"),
        }
    }
}
