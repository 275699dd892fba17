-- The platform's admins (from identity's role changes): operational reminders, such as
-- payments waiting for an operator, go to them.
CREATE TABLE notifications_admins (
    user_id BLOB PRIMARY KEY
);
