DROP TABLE board_links;
