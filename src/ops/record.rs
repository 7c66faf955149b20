//! What a command that changes the account records as it goes (init, ci-role,
//! runtime-role): a summary row per resource, the changes made (typed: a failure part way
//! lists them), and the requests sent, in one JSON shape for every command.

use std::cell::RefCell;

use serde::Serialize;

use crate::aws::RequestLog;
use crate::change::{Change, Kind};
use crate::outln;
use crate::ui::style;

/// What happened (or, with --dry-run, would happen) to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Created,
    Updated,
    Unchanged,
    WouldCreate,
    WouldUpdate,
}

impl Status {
    pub fn changed(dry_run: bool, create: bool) -> Self {
        match (dry_run, create) {
            (true, true) => Status::WouldCreate,
            (true, false) => Status::WouldUpdate,
            (false, true) => Status::Created,
            (false, false) => Status::Updated,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Updated => "updated",
            Status::Unchanged => "unchanged",
            Status::WouldCreate => "would create",
            Status::WouldUpdate => "would update",
        }
    }
}

/// One row of the summary.
#[derive(Debug, Clone, Serialize)]
pub struct Resource {
    pub resource: Kind,
    pub name: String,
    pub status: Status,
    pub detail: String,
}

impl Resource {
    /// The summary's rows: resource, status (coloured by what happened), name, detail.
    pub fn rows(out: &mut String, resources: &[Resource]) {
        for resource in resources {
            let status = match resource.status {
                Status::Created | Status::Updated => style::ok(resource.status.label()),
                Status::WouldCreate | Status::WouldUpdate => style::warn(resource.status.label()),
                Status::Unchanged => style::note(resource.status.label()),
            };
            let label = resource.resource.label();
            let detail =
                if resource.detail.is_empty() { String::new() } else { format!("  {}", style::note(&resource.detail)) };
            outln!(out, "  {label:<20} {status:<13} {}{detail}", resource.name);
        }
    }
}

/// How many AWS requests the acting credentials sent, and which: the same shape in every
/// report that has it.
#[derive(Debug, Clone, Serialize)]
pub struct Requests {
    pub total: usize,
    pub mutating: usize,
    pub operations: Vec<String>,
}

impl Requests {
    pub fn of(log: &RequestLog) -> Requests {
        Requests { total: log.operations().len(), mutating: log.mutating().len(), operations: log.operations() }
    }

    /// The summary's closing note: `12 AWS requests, 5 of them changes`.
    pub fn line(&self) -> String {
        format!("  {} AWS requests, {} of them changes", self.total, self.mutating)
    }
}

/// The rows of a summary and the changes made, recorded as they happen: what a failure
/// part way lists, and what the report shows, both in [`Kind`]'s order.
pub struct Record {
    dry_run: bool,
    rows: RefCell<Vec<Resource>>,
    changes: RefCell<Vec<Change>>,
}

impl Record {
    pub fn new(dry_run: bool) -> Record {
        Record { dry_run, rows: RefCell::default(), changes: RefCell::default() }
    }

    pub fn row(&self, resource: Kind, name: impl Into<String>, status: Status, detail: impl Into<String>) {
        self.rows.borrow_mut().push(Resource { resource, name: name.into(), status, detail: detail.into() });
    }

    /// `unchanged` when nothing is needed, else created / updated (or would be).
    pub fn status(&self, needed: bool, create: bool) -> Status {
        if needed { Status::changed(self.dry_run, create) } else { Status::Unchanged }
    }

    pub fn changed(&self, change: Change) {
        self.changes.borrow_mut().push(change);
    }

    /// Records `what` as a resource of `kind` created.
    pub fn created(&self, kind: Kind, what: impl Into<String>) {
        self.changed(Change::created(kind, what));
    }

    /// Records `what` as a resource of `kind` changed.
    pub fn updated(&self, kind: Kind, what: impl Into<String>) {
        self.changed(Change::updated(kind, what));
    }

    /// Forgets the changes `drop` picks (a key deleted again is no change).
    pub fn forget(&self, drop: impl Fn(&Change) -> bool) {
        self.changes.borrow_mut().retain(|change| !drop(change));
    }

    pub fn dry_run(&self) -> bool {
        self.dry_run
    }

    /// The rows and the changes made, each sorted by [`Kind`] (stable: rows of one kind
    /// keep the order they were made in).
    pub fn into_parts(self) -> (Vec<Resource>, Vec<Change>) {
        let mut rows = self.rows.into_inner();
        rows.sort_by_key(|row| row.resource);
        let mut changes = self.changes.into_inner();
        changes.sort_by_key(|change| change.kind);
        (rows, changes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_changes_come_out_in_the_order_of_their_kinds() {
        let record = Record::new(false);
        record.row(Kind::AccessKey, "AKIA…", Status::Created, "");
        record.row(Kind::Bucket, "b", Status::Unchanged, "");
        record.row(Kind::Policy, "P", record.status(true, false), "");
        record.changed(Change::created(Kind::AccessKey, "access key created"));
        record.changed(Change::created(Kind::User, "user created"));
        let (rows, changes) = record.into_parts();
        let kinds: Vec<Kind> = rows.iter().map(|r| r.resource).collect();
        assert_eq!(kinds, [Kind::Bucket, Kind::Policy, Kind::AccessKey]);
        assert_eq!(rows[1].status, Status::Updated);
        assert_eq!(changes.iter().map(ToString::to_string).collect::<Vec<_>>(), ["user created", "access key created"]);
        assert_eq!(serde_json::to_value(&rows[0]).unwrap()["resource"], "bucket");
    }
}
