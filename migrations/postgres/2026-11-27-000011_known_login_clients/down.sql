DROP TABLE known_login_clients;
