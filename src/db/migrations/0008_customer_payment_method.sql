-- The payment method a customer asked to be charged with (the provider's id, e.g. pm_…). Dunning
-- charges it at each retry, so a customer who updates their card is charged on the new one.
ALTER TABLE customers ADD COLUMN payment_method text;
