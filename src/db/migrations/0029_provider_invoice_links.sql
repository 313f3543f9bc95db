-- Stripe Billing's own invoices (the calendar owned by Stripe): the links Stripe gives for the
-- invoice, kept so operators and customers reach Stripe's copy (its hosted page and its PDF).
ALTER TABLE invoices ADD COLUMN provider_hosted_url text, ADD COLUMN provider_pdf_url text;
