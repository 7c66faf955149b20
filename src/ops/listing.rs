//! `ls`'s work: what the backend stored, as the guide's last step asks ("verify files appear in
//! your S3 bucket"), listed with the backend's own key: keys, sizes, dates and storage
//! classes, sorted, with totals, and a count and size per top-level prefix. Never contents.

use serde::Serialize;

use crate::bucket::Listed;
use crate::outln;
use crate::ui::{Render, one_line, style};

/// The listing.
#[derive(Debug, Clone, Serialize)]
pub struct ListReport {
    pub ok: bool,
    pub bucket: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Every object, by key (left out with --summary).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub objects: Option<Vec<Listed>>,
    /// Count and size per top-level prefix (`users/`), with --summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefixes: Option<Vec<PrefixTotal>>,
    pub total_objects: u64,
    pub total_bytes: u64,
}

/// Objects under one top-level prefix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PrefixTotal {
    /// `users/`, or the key itself for an object at the top.
    pub prefix: String,
    pub objects: u64,
    pub bytes: u64,
}

/// Sorts `objects` by key and adds them up; with `summary`, per top-level prefix instead of
/// one line each.
pub fn report(bucket: &str, prefix: Option<&str>, mut objects: Vec<Listed>, summary: bool) -> ListReport {
    objects.sort_by(|a, b| a.key.cmp(&b.key));
    let total_objects = objects.len() as u64;
    let total_bytes = objects.iter().map(|o| o.size).sum();
    let (objects, prefixes) = if summary { (None, Some(by_prefix(&objects))) } else { (Some(objects), None) };
    ListReport {
        ok: true,
        bucket: bucket.to_string(),
        prefix: prefix.map(str::to_string),
        objects,
        prefixes,
        total_objects,
        total_bytes,
    }
}

/// Count and size per first path segment (`users/42/a.pdf` counts under `users/`).
fn by_prefix(objects: &[Listed]) -> Vec<PrefixTotal> {
    let mut totals: Vec<PrefixTotal> = Vec::new();
    for object in objects {
        let prefix = match object.key.split_once('/') {
            Some((first, _)) => format!("{first}/"),
            None => object.key.clone(),
        };
        match totals.iter_mut().find(|t| t.prefix == prefix) {
            Some(total) => {
                total.objects += 1;
                total.bytes += object.size;
            }
            None => totals.push(PrefixTotal { prefix, objects: 1, bytes: object.size }),
        }
    }
    totals.sort_by(|a, b| a.prefix.cmp(&b.prefix));
    totals
}

/// A size for people: 512 B, 1.5 KB, 3.2 MB (powers of 1,000, as S3's console shows them).
fn size(bytes: u64) -> String {
    match bytes {
        0..1_000 => format!("{bytes} B"),
        1_000..1_000_000 => format!("{:.1} KB", bytes as f64 / 1e3),
        1_000_000..1_000_000_000 => format!("{:.1} MB", bytes as f64 / 1e6),
        _ => format!("{:.2} GB", bytes as f64 / 1e9),
    }
}

impl Render for ListReport {
    fn text(&self, out: &mut String) {
        if let Some(objects) = &self.objects {
            for object in objects {
                let when = object.last_modified.as_deref().unwrap_or("-");
                let class = object.storage_class.as_deref().unwrap_or("STANDARD");
                outln!(out, "{when:<20}  {:>10}  {class:<12}  {}", size(object.size), one_line(&object.key));
            }
        }
        if let Some(prefixes) = &self.prefixes {
            for total in prefixes {
                outln!(out, "{:>8} objects  {:>10}  {}", total.objects, size(total.bytes), one_line(&total.prefix));
            }
        }
        let under = self.prefix.as_deref().map(|p| format!(" under `{}`", one_line(p))).unwrap_or_default();
        let objects =
            if self.total_objects == 1 { "1 object".to_string() } else { format!("{} objects", self.total_objects) };
        let line = format!("{objects}, {} in `{}`{under}", size(self.total_bytes), self.bucket);
        outln!(out, "{}", style::note(&line));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(key: &str, size: u64) -> Listed {
        Listed { key: key.into(), size, last_modified: None, storage_class: None }
    }

    #[test]
    fn objects_are_sorted_totalled_and_grouped_by_their_first_segment() {
        let objects = vec![object("users/9/b.pdf", 2_000), object("readme.txt", 10), object("users/1/a.pdf", 1_000)];
        let listed = report("b", None, objects.clone(), false);
        let keys: Vec<&str> = listed.objects.as_ref().unwrap().iter().map(|o| o.key.as_str()).collect();
        assert_eq!(keys, ["readme.txt", "users/1/a.pdf", "users/9/b.pdf"]);
        assert_eq!((listed.total_objects, listed.total_bytes), (3, 3_010));
        let summary = report("b", None, objects, true);
        assert!(summary.objects.is_none());
        assert_eq!(
            summary.prefixes.unwrap(),
            vec![
                PrefixTotal { prefix: "readme.txt".into(), objects: 1, bytes: 10 },
                PrefixTotal { prefix: "users/".into(), objects: 2, bytes: 3_000 },
            ]
        );
        assert_eq!((size(999), size(1_500), size(2_500_000)), ("999 B".into(), "1.5 KB".into(), "2.5 MB".into()));
    }
}
