//! The sales tools' people on DynamoDB. Keys that would spell an email hold its SHA-256
//! instead (keys show in consoles and metrics); the address itself is an attribute of its
//! person's item only, deleted by an erasure.
//!
//! | item | PK | SK | other attributes |
//! |---|---|---|---|
//! | contact | `CONTACT#{sha256(email)}` | `LEAD#{lead}` | `lead_id`: a form of the lead gave the email (written with the event) |
//! | identity | `PERSON#{person}` | `KEY#{sha256(key)}` | `key` (`email:…`, `crm:…`) |
//! | identity, by key | `IDKEY#{sha256(key)}` | `PERSON#{person}` | `person` |
//! | held touch | `PERSON#{person}` | `HELD#{event_id}` | `body` (JSON) |
//! | migration mark | `MIGRATION` | `CONTACTS` | the contact items of forms stored before them exist |

use super::{decode, encode, s, DynamoStore, Item};
use crate::error::port_err;
use crate::retry::with_retries;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use leadclock_app::error::PortError;
use leadclock_app::identity::{contact_emails, normal_email, HeldTouch, Identity, IdentityKey, ToolPerson};
use leadclock_app::ports::Identities;
use leadclock_domain::{Event, EventId, LeadId};
use sha2::{Digest, Sha256};

fn digest(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn contact_pk(email: &str) -> String {
    format!("CONTACT#{}", digest(&normal_email(email)))
}

fn key_hash(key: &IdentityKey) -> String {
    digest(&key.stored())
}

/// The contact items a new event adds: one per email its form gives (none for other kinds).
pub(super) fn contact_puts(table: &str, event: &Event) -> Result<Vec<TransactWriteItem>, PortError> {
    contact_emails([event])
        .iter()
        .map(|email| {
            let put = Put::builder()
                .table_name(table)
                .item("PK", s(contact_pk(email)))
                .item("SK", s(format!("LEAD#{}", event.lead_id)))
                .item("lead_id", s(event.lead_id.as_str()))
                .build()
                .map_err(|e| PortError::new("append event", e.to_string()))?;
            Ok(TransactWriteItem::builder().put(put).build())
        })
        .collect()
}

impl DynamoStore {
    async fn partition(&self, op: &'static str, pk: String, prefix: &str) -> Result<Vec<Item>, PortError> {
        self.query_all(op, || {
            self.client
                .query()
                .table_name(&self.table)
                .consistent_read(true)
                .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                .expression_attribute_values(":pk", s(pk.clone()))
                .expression_attribute_values(":prefix", s(prefix))
        })
        .await
    }

    async fn put(&self, op: &'static str, item: Item) -> Result<(), PortError> {
        with_retries(op, || {
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item.clone()))
                .send()
        })
        .await
        .map(|_| ())
        .map_err(|e| port_err(op, e))
    }

    async fn delete(&self, op: &'static str, pk: String, sk: String) -> Result<(), PortError> {
        with_retries(op, || {
            self.client
                .delete_item()
                .table_name(&self.table)
                .key("PK", s(pk.clone()))
                .key("SK", s(sk.clone()))
                .send()
        })
        .await
        .map(|_| ())
        .map_err(|e| port_err(op, e))
    }

    /// Writes the contact items of the forms stored before contact items existed, once: a
    /// deployed stack upgrades in place (the nightly rollup runs it until the mark is written).
    /// Idempotent, so a run cut short starts over harmlessly.
    pub async fn backfill_contacts(&self) -> Result<usize, PortError> {
        let op = "backfill contacts";
        let mark = self.partition(op, "MIGRATION".into(), "CONTACTS").await?;
        if !mark.is_empty() {
            return Ok(0);
        }
        let mut written = 0;
        for item in self.forms_with_contact().await? {
            let event: Event = decode("decode event", &item, "body")?;
            for email in contact_emails([&event]) {
                let row = Item::from([
                    ("PK".to_owned(), s(contact_pk(&email))),
                    ("SK".to_owned(), s(format!("LEAD#{}", event.lead_id))),
                    ("lead_id".to_owned(), s(event.lead_id.as_str())),
                ]);
                self.put(op, row).await?;
                written += 1;
            }
        }
        let done = Item::from([("PK".to_owned(), s("MIGRATION")), ("SK".to_owned(), s("CONTACTS"))]);
        self.put(op, done).await?;
        tracing::info!(written, "contact index backfilled");
        Ok(written)
    }
}

impl Identities for DynamoStore {
    async fn leads_by_contact(&self, email: &str) -> Result<Vec<LeadId>, PortError> {
        let items = self
            .partition("find leads by contact", contact_pk(email), "LEAD#")
            .await?;
        Ok(items
            .iter()
            .filter_map(|i| i.get("lead_id").and_then(|v| v.as_s().ok()))
            .filter_map(|id| LeadId::parse(id).ok())
            .collect())
    }

    async fn learn(&self, person: &ToolPerson, identity: &Identity) -> Result<(), PortError> {
        let op = "learn a person";
        for key in identity.keys() {
            let h = key_hash(&key);
            let forward = Item::from([
                ("PK".to_owned(), s(format!("PERSON#{person}"))),
                ("SK".to_owned(), s(format!("KEY#{h}"))),
                ("key".to_owned(), s(key.stored())),
            ]);
            let back = Item::from([
                ("PK".to_owned(), s(format!("IDKEY#{h}"))),
                ("SK".to_owned(), s(format!("PERSON#{person}"))),
                ("person".to_owned(), s(person.as_str())),
            ]);
            self.put(op, forward).await?;
            self.put(op, back).await?;
        }
        Ok(())
    }

    async fn identity(&self, person: &ToolPerson) -> Result<Identity, PortError> {
        let items = self
            .partition("read a person", format!("PERSON#{person}"), "KEY#")
            .await?;
        let keys = items.iter().filter_map(|i| i.get("key").and_then(|v| v.as_s().ok()));
        Ok(Identity::from_keys(keys.map(String::as_str)))
    }

    async fn people_with(&self, key: &IdentityKey) -> Result<Vec<ToolPerson>, PortError> {
        let items = self
            .partition("find people by key", format!("IDKEY#{}", key_hash(key)), "PERSON#")
            .await?;
        Ok(items
            .iter()
            .filter_map(|i| i.get("person").and_then(|v| v.as_s().ok()))
            .filter_map(|p| ToolPerson::parse(p).ok())
            .collect())
    }

    async fn hold(&self, touch: &HeldTouch) -> Result<(), PortError> {
        let item = Item::from([
            ("PK".to_owned(), s(format!("PERSON#{}", touch.person))),
            ("SK".to_owned(), s(format!("HELD#{}", touch.event_id))),
            ("body".to_owned(), s(encode("encode held touch", touch)?)),
        ]);
        self.put("hold a touch", item).await
    }

    async fn held(&self, person: &ToolPerson) -> Result<Vec<HeldTouch>, PortError> {
        let items = self
            .partition("read held touches", format!("PERSON#{person}"), "HELD#")
            .await?;
        items.iter().map(|i| decode("decode held touch", i, "body")).collect()
    }

    async fn release(&self, person: &ToolPerson, events: &[EventId]) -> Result<(), PortError> {
        for id in events {
            self.delete("release held touch", format!("PERSON#{person}"), format!("HELD#{id}"))
                .await?;
        }
        Ok(())
    }

    async fn forget_email(&self, email: &str) -> Result<(), PortError> {
        let op = "forget an email";
        let key = IdentityKey::Email(normal_email(email));
        let h = key_hash(&key);
        for person in self.people_with(&key).await? {
            self.delete(op, format!("PERSON#{person}"), format!("KEY#{h}")).await?;
            self.delete(op, format!("IDKEY#{h}"), format!("PERSON#{person}"))
                .await?;
        }
        for item in self.partition(op, contact_pk(email), "LEAD#").await? {
            if let Some(sk) = item.get("SK").and_then(|v| v.as_s().ok()) {
                self.delete(op, contact_pk(email), sk.clone()).await?;
            }
        }
        Ok(())
    }
}
