//! The guide's seven-step test (section 8.1), in one table: what t3s3's self-test runs, what
//! the backend driver (`backend_driver.py`) runs through the backend's own code, and what
//! both report. The driver receives the step names, the test content and the settings it
//! checks from here (`T3S3_STEPS`, `T3S3_TEST_CONTENT`, `T3S3_FIELDS`), so neither side
//! keeps a copy.

/// One step: its name (in JSON, and the driver's method), the guide's title, and the
/// backend method it calls, as a developer finds it in the code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub name: &'static str,
    pub title: &'static str,
    pub method: &'static str,
}

/// The seven steps, in order (numbered from 1).
pub const STEPS: [Step; 7] = [
    Step { name: "environment", title: "Checking environment variables...", method: "config.py: get_settings()" },
    Step { name: "connection", title: "Testing S3 connection...", method: "storage/s3_client.py: get_s3_client()" },
    Step { name: "upload", title: "Testing file upload...", method: "storage/s3_client.py: upload_file()" },
    Step { name: "download", title: "Testing file download...", method: "storage/s3_client.py: download_file()" },
    Step {
        name: "presigned_url",
        title: "Testing presigned URL generation...",
        method: "storage/s3_client.py: get_presigned_url()",
    },
    Step { name: "delete", title: "Testing file deletion...", method: "storage/s3_client.py: delete_file()" },
    Step {
        name: "confirm_deletion",
        title: "Verifying file was deleted...",
        method: "storage/s3_client.py: file_exists()",
    },
];

/// Step `number` (1-7; anything else is the nearest).
pub fn step(number: u8) -> Step {
    STEPS[usize::from(number.clamp(1, 7) - 1)]
}

/// The bytes uploaded, downloaded and fetched back: the guide's test file.
pub const TEST_CONTENT: &[u8] = b"Hello, this is a test file for T3 Chat S3 setup!";

/// The settings step 1 checks, as the backend's settings object names them, and whether each
/// is a secret (its value is never shown).
pub const FIELDS: [(&str, bool); 4] =
    [("aws_access_key_id", false), ("aws_secret_access_key", true), ("aws_region", false), ("s3_bucket_name", false)];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_the_guides_and_the_drivers() {
        let names: Vec<&str> = STEPS.iter().map(|s| s.name).collect();
        assert_eq!(names.len(), 7);
        // The driver runs each step by this name: each is a method of its Run.
        let driver = include_str!("backend_driver.py");
        for name in names {
            assert!(driver.contains(&format!("    def {name}(self):")), "the driver has no step {name}");
        }
        assert_eq!(step(0), STEPS[0]);
        assert_eq!(step(9).name, "confirm_deletion");
        assert!(std::str::from_utf8(TEST_CONTENT).is_ok(), "passed to the driver as text");
    }
}
