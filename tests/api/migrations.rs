//! Every migration's down.sql undoes its up.sql, on both databases.

use madoguchi::db;

use crate::helpers::{Db, TestDatabase, db_tests};

async fn migrations_run_down_and_up_again(db: Db) {
    let database = TestDatabase::create(db);
    let pool =
        db::connect_pool(&database.url, 1, std::time::Duration::from_secs(10), 10_000).unwrap();
    let mut conn = pool.get().unwrap();
    assert!(
        db::run_migrations(&mut conn).unwrap() > 0,
        "a new database gets every migration"
    );
    db::redo_all_migrations(&mut conn).expect("down then up");
    assert_eq!(
        db::run_migrations(&mut conn).unwrap(),
        0,
        "nothing is left pending"
    );
}

/// A copy of the migrations of `kind` plus one that fails half-way (its
/// first statement works, its second does not), as a newer version with a
/// bad migration would ship.
fn migrations_with_a_failing_one(kind: Db) -> tempfile::TempDir {
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(match kind {
        Db::Sqlite => "migrations/sqlite",
        Db::Postgres => "migrations/postgres",
    });
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&source).unwrap() {
        let entry = entry.unwrap();
        let to = dir.path().join(entry.file_name());
        std::fs::create_dir_all(&to).unwrap();
        for file in std::fs::read_dir(entry.path()).unwrap() {
            let file = file.unwrap();
            std::fs::copy(file.path(), to.join(file.file_name())).unwrap();
        }
    }
    let bad = dir.path().join("2099-01-01-000001_fails_half_way");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(
        bad.join("up.sql"),
        "CREATE TABLE should_not_survive (id INTEGER);\n\
         UPDATE organisations SET name = 'changed by a failing migration';\n\
         INSERT INTO no_such_table VALUES (1);\n",
    )
    .unwrap();
    std::fs::write(bad.join("down.sql"), "DROP TABLE should_not_survive;\n").unwrap();
    dir
}

/// An upgrade whose migration fails leaves the database as it was: the
/// migration runs in one transaction, and the server does not start.
async fn a_failing_migration_leaves_the_database_as_it_was(kind: Db) {
    use diesel::prelude::*;
    use diesel_migrations::{FileBasedMigrations, MigrationHarness};
    let database = TestDatabase::create(kind);
    {
        let pool =
            db::connect_pool(&database.url, 1, std::time::Duration::from_secs(10), 10_000).unwrap();
        let mut conn = pool.get().unwrap();
        db::run_migrations(&mut conn).unwrap();
        diesel::sql_query(
            "INSERT INTO organisations (id, name, timezone, created_at, reminder_rules) \
             VALUES ('0190d6a0-0000-7000-8000-000000000001', 'Kita', 'Asia/Tokyo', CURRENT_TIMESTAMP, '1d@10:00')",
        )
        .execute(&mut *conn)
        .unwrap();
    }
    let dir = migrations_with_a_failing_one(kind);
    let source = FileBasedMigrations::from_path(dir.path()).unwrap();
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let exists_sql = match kind {
        Db::Sqlite => "SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'should_not_survive'",
        Db::Postgres => {
            "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_name = 'should_not_survive'"
        }
    };
    let check = |applied: i64, name: String, survived: i64| {
        assert_eq!(name, "Kita", "the data is as it was");
        assert_eq!(survived, 0, "the half-run migration left nothing");
        assert_eq!(applied, 18, "the failing migration is not recorded");
    };
    match kind {
        Db::Sqlite => {
            let mut conn = SqliteConnection::establish(
                &madoguchi::backup::sqlite_file(&database.url)
                    .unwrap()
                    .to_string_lossy(),
            )
            .unwrap();
            let failed = conn.run_pending_migrations(source).unwrap_err().to_string();
            assert!(
                failed.contains("no_such_table"),
                "it failed where meant to: {failed}"
            );
            let name: Name = diesel::sql_query("SELECT name FROM organisations")
                .get_result(&mut conn)
                .unwrap();
            let survived: N = diesel::sql_query(exists_sql).get_result(&mut conn).unwrap();
            let applied: N =
                diesel::sql_query("SELECT COUNT(*) AS n FROM __diesel_schema_migrations")
                    .get_result(&mut conn)
                    .unwrap();
            check(applied.n, name.name, survived.n);
        }
        Db::Postgres => {
            let mut conn = PgConnection::establish(&database.url).unwrap();
            let failed = conn.run_pending_migrations(source).unwrap_err().to_string();
            assert!(
                failed.contains("no_such_table"),
                "it failed where meant to: {failed}"
            );
            let name: Name = diesel::sql_query("SELECT name FROM organisations")
                .get_result(&mut conn)
                .unwrap();
            let survived: N = diesel::sql_query(exists_sql).get_result(&mut conn).unwrap();
            let applied: N =
                diesel::sql_query("SELECT COUNT(*) AS n FROM __diesel_schema_migrations")
                    .get_result(&mut conn)
                    .unwrap();
            check(applied.n, name.name, survived.n);
        }
    }
}

db_tests!(
    migrations_run_down_and_up_again,
    a_failing_migration_leaves_the_database_as_it_was,
);
