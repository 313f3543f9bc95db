// Messages out: customer and team emails (SMTP or the outbox), Slack, signed webhooks, the
// in-app feed, failure alerts with a storm cap, templates, settings and PDFs. Every send is
// recorded under a send key (at-least-once; a resend after a crash is flagged, never silent).
export * from './events.ts';
export { notificationCatalogue } from './catalogue.ts';
export type { EventNotification, EventNotifications, LocaleTemplates, NotificationCatalogue } from './catalogue.ts';
export { withCatalogue } from './bound.ts';
export { TEAM_NOTIFICATIONS } from './team-events.ts';
export { htmlEmail, htmlFacts } from './email-layout.ts';
export { formatMoney, minorUnitDigits } from './money.ts';
export type { MinorAmount } from './money.ts';
export type { AlertEvent, NotifyDeps } from './deps.ts';
export { sendKey, listSends, getSend, deliverOnce, DeliveryFailure } from './sends.ts';
export type {
  SendOutcome,
  SendRecord,
  SendChannel,
  SendTransport,
  SendMeta,
  Delivered,
  SendEvent,
  SendResult,
  OnSend,
} from './sends.ts';
export { closeEmailTransport, createEmailTransport, sendEmail } from './email.ts';
export type { EmailTransport, EmailTransportOptions, EmailMessage, EmailAttachment } from './email.ts';
export { createSmtpSender, classifySmtpError, describeSmtpUrl } from './smtp.ts';
export type { SmtpOptions, SmtpSender } from './smtp.ts';
export { listOutbox, getOutboxEmail, getOutboxAttachment } from './outbox.ts';
export type { OutboxEmail, OutboxEmailDetail } from './outbox.ts';
export type { Page, PageRequest } from './page.ts';
export { postSlack } from './slack.ts';
export type { SlackDeps, SlackMessage, SlackTarget } from './slack.ts';
export { sendWebhook, signWebhook, webhookId } from './webhook.ts';
export type { WebhookDeps, WebhookMessage } from './webhook.ts';
export type { FetchFn } from './http.ts';
export {
  renderTemplate,
  previewTemplate,
  getTemplate,
  saveTemplateOverride,
  deleteTemplateOverride,
  listTemplates,
} from './templates.ts';
export type {
  RenderRequest,
  RenderedTemplate,
  TemplateKey,
  TemplateView,
  SaveTemplateRequest,
  TemplateListItem,
} from './templates.ts';
export type { TemplateSource, RenderedMessage } from './liquid.ts';
export { templateVariables } from './samples.ts';
export type { TemplateVariable } from './samples.ts';
export {
  getNotificationSettings,
  listNotificationSettings,
  updateNotificationSettings,
  resetNotificationSettings,
  defaultSettings,
} from './settings.ts';
export type { NotificationSettings, SettingsPatch } from './settings.ts';
export {
  listSlackEndpoints,
  createSlackEndpoint,
  updateSlackEndpoint,
  deleteSlackEndpoint,
  enabledSlackTargets,
  sendSlackTest,
} from './slack-endpoints.ts';
export type { SlackEndpointView, SlackEndpointInput, SlackTestResult } from './slack-endpoints.ts';
export {
  createNotification,
  listNotifications,
  unreadCount,
  markRead,
  markAllRead,
  resolveFinishedAlerts,
} from './inbox.ts';
export type { InAppNotification, NotificationInput, NotificationFilter, NotificationKind, Severity } from './inbox.ts';
export { sendCustomerEmail, sendTeamNotice } from './notices.ts';
export type { CustomerEmailRequest, TeamNoticeRequest, TeamNoticeResult, Skipped } from './notices.ts';
export { raiseFailureAlert, flushAlertDigest, DEFAULT_ALERT_POLICY } from './alerts.ts';
export type { AlertDeps, AlertPolicy, FailureAlert, RaiseResult, FlushResult } from './alerts.ts';
export { renderInvoicePdf, renderReceiptPdf } from './pdf.ts';
export type { InvoiceDocument, ReceiptDocument, PdfLine, PdfParty, PdfFonts } from './pdf.ts';
export * from './webhooks/index.ts';
