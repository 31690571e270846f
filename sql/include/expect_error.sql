\set ECHO none
-- Shared by the regression tests (\i sql/include/expect_error.sql; pg_regress
-- runs psql in the input directory): run a statement that must fail and show
-- its SQLSTATE with the message, so every bad-input case is checked for both.
CREATE OR REPLACE FUNCTION expect_error(query text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE query;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
\set ECHO all
