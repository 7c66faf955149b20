//! "Did you mean": the closest of a known set to what was typed. Plain functions, no I/O.

/// AWS's commercial regions and the places people call them by.
const REGIONS: &[(&str, &[&str])] = &[
    ("us-east-1", &["virginia", "n. virginia", "north virginia"]),
    ("us-east-2", &["ohio"]),
    ("us-west-1", &["california", "n. california", "north california"]),
    ("us-west-2", &["oregon"]),
    ("af-south-1", &["cape town"]),
    ("ap-east-1", &["hong kong"]),
    ("ap-south-1", &["mumbai", "india"]),
    ("ap-south-2", &["hyderabad"]),
    ("ap-southeast-1", &["singapore"]),
    ("ap-southeast-2", &["sydney"]),
    ("ap-southeast-3", &["jakarta"]),
    ("ap-southeast-4", &["melbourne"]),
    ("ap-southeast-5", &["malaysia"]),
    ("ap-northeast-1", &["tokyo", "japan"]),
    ("ap-northeast-2", &["seoul", "korea"]),
    ("ap-northeast-3", &["osaka"]),
    ("ca-central-1", &["canada", "montreal"]),
    ("ca-west-1", &["calgary"]),
    ("eu-central-1", &["frankfurt", "germany"]),
    ("eu-central-2", &["zurich"]),
    ("eu-west-1", &["ireland", "dublin"]),
    ("eu-west-2", &["london"]),
    ("eu-west-3", &["paris"]),
    ("eu-north-1", &["stockholm"]),
    ("eu-south-1", &["milan"]),
    ("eu-south-2", &["spain"]),
    ("il-central-1", &["tel aviv", "israel"]),
    ("me-south-1", &["bahrain"]),
    ("me-central-1", &["uae"]),
    ("mx-central-1", &["mexico"]),
    ("sa-east-1", &["sao paulo", "são paulo", "brazil"]),
];

/// Regions outside the commercial list above that AWS also runs (GovCloud, China, the newest).
const OTHER_REGIONS: &[&str] = &[
    "us-gov-west-1",
    "us-gov-east-1",
    "cn-north-1",
    "cn-northwest-1",
    "ap-east-2",
    "ap-southeast-6",
    "ap-southeast-7",
    "eusc-de-east-1",
];

/// Whether AWS has a region of this name (the SDK's partitions as of this release).
pub fn is_known_region(code: &str) -> bool {
    REGIONS.iter().any(|(known, _)| *known == code) || OTHER_REGIONS.contains(&code)
}

/// Levenshtein distance, for "did you mean".
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb)).min(row[j] + 1).min(row[j + 1] + 1);
            previous = current;
        }
    }
    row[b.len()]
}

/// The region someone meant by `typed`: another case (`AP-SOUTH-1`), a lost hyphen
/// (`ap-south1`), a city (`mumbai`), or one or two letters off (`ap-suoth-1`).
pub fn region(typed: &str) -> Option<&'static str> {
    let lower = typed.trim().to_lowercase();
    let squashed = |s: &str| s.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>();
    REGIONS
        .iter()
        .find(|(code, places)| {
            squashed(code) == squashed(&lower) || places.iter().any(|p| *p == lower || squashed(p) == squashed(&lower))
        })
        .map(|(code, _)| *code)
        .or_else(|| {
            let (code, distance) =
                REGIONS.iter().map(|(code, _)| (*code, edit_distance(code, &lower))).min_by_key(|(_, d)| *d)?;
            (distance <= 2).then_some(code)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mistyped_region_is_named() {
        for (typed, meant) in [
            ("ap-south1", "ap-south-1"),
            ("AP-SOUTH-1", "ap-south-1"),
            ("mumbai", "ap-south-1"),
            ("Mumbai", "ap-south-1"),
            ("ap-suoth-1", "ap-south-1"),
            ("useast1", "us-east-1"),
            ("frankfurt", "eu-central-1"),
        ] {
            assert_eq!(region(typed), Some(meant), "{typed}");
        }
        assert_eq!(region("north-pole"), None);
        assert_eq!(region("ap-souht-1"), Some("ap-south-1"));
        assert!(is_known_region("ap-south-1") && is_known_region("us-gov-west-1"));
        assert!(!is_known_region("ap-souht-1"));
    }
}
