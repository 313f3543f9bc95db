import type { Queryable } from '../db/types.ts';
import type { NotificationCatalogue } from './catalogue.ts';
import type { NotifyDeps } from './deps.ts';
import { sendCustomerEmail, sendTeamNotice } from './notices.ts';
import type { CustomerEmailRequest, TeamNoticeRequest } from './notices.ts';
import {
  defaultSettings,
  getNotificationSettings,
  listNotificationSettings,
  resetNotificationSettings,
  updateNotificationSettings,
} from './settings.ts';
import type { SettingsPatch } from './settings.ts';
import { getTemplate, listTemplates, renderTemplate, saveTemplateOverride } from './templates.ts';
import type { RenderRequest, SaveTemplateRequest, TemplateKey } from './templates.ts';

/**
 * The notify functions that need the catalogue, with one catalogue given: what the layer that
 * builds the catalogue (billing) hands the layers above it, so they never pass it themselves.
 */
export function withCatalogue<E extends string>(catalogue: NotificationCatalogue<E>) {
  return {
    renderTemplate: (q: Queryable, request: RenderRequest<E>) => renderTemplate(q, catalogue, request),
    getTemplate: (q: Queryable, key: TemplateKey<E>) => getTemplate(q, catalogue, key),
    saveTemplateOverride: (q: Queryable, request: SaveTemplateRequest<E>) =>
      saveTemplateOverride(q, catalogue, request),
    listTemplates: (q: Queryable) => listTemplates(q, catalogue),
    defaultSettings: (event: E) => defaultSettings(catalogue, event),
    getNotificationSettings: (q: Queryable, event: E) => getNotificationSettings(q, catalogue, event),
    listNotificationSettings: (q: Queryable) => listNotificationSettings(q, catalogue),
    updateNotificationSettings: (q: Queryable, event: E, patch: SettingsPatch, actor?: string) =>
      updateNotificationSettings(q, catalogue, event, patch, actor),
    resetNotificationSettings: (q: Queryable, event: E) => resetNotificationSettings(q, catalogue, event),
    sendCustomerEmail: (q: Queryable, deps: NotifyDeps, request: CustomerEmailRequest<E>) =>
      sendCustomerEmail(q, catalogue, deps, request),
    sendTeamNotice: (q: Queryable, deps: NotifyDeps, request: TeamNoticeRequest<E>) =>
      sendTeamNotice(q, catalogue, deps, request),
  };
}
