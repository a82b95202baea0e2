//! Id newtypes, so an account id cannot be passed where an organisation id is
//! expected. Stored as canonical lowercase UUID text on both databases
//! (`MultiConnection` passes only plain column types; see docs/decisions.md).

macro_rules! define_id {
    ($name:ident) => {
        #[derive(
            Debug,
            Clone,
            Copy,
            PartialEq,
            Eq,
            Hash,
            PartialOrd,
            Ord,
            serde::Serialize,
            serde::Deserialize,
            diesel::expression::AsExpression,
            diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = diesel::sql_types::Text)]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A new time-ordered (v7) id: sorting ids sorts by creation.
            pub fn generate() -> Self {
                Self(uuid::Uuid::now_v7())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }

        impl From<uuid::Uuid> for $name {
            fn from(id: uuid::Uuid) -> Self {
                Self(id)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid)))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(text: &str) -> Result<Self, uuid::Error> {
                text.parse().map(Self)
            }
        }

        $crate::db::text_enum::text_column!($name);
    };
}

define_id!(OrganisationId);
define_id!(AccountId);
define_id!(AuthSessionId);
define_id!(VenueId);
define_id!(CourseId);
define_id!(SeriesId);
define_id!(SessionId);
define_id!(ClosureId);
define_id!(ResidentId);
define_id!(BookingId);
define_id!(DeviceId);
define_id!(LoanId);
define_id!(PaymentId);
define_id!(TicketId);
define_id!(EnrolmentId);
define_id!(CourseEnrolmentId);
define_id!(EnrolmentConflictId);
define_id!(ProgrammeId);
