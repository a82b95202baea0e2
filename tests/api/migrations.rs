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

db_tests!(migrations_run_down_and_up_again);
