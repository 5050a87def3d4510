/**
 * Conference links both ways. Google exposes Meet as `hangoutLink` plus `conferenceData`,
 * and third-party add-ons (Zoom, Teams, Webex) as `conferenceData` entry points.
 */
import { randomUUID } from 'node:crypto';
import type { ConferenceData, ConferenceProvider, EventInput } from '../../domain/calendar.js';
import { ProviderError } from '../types.js';
import { CONFERENCE_URL_KEY } from './google-custom-properties.js';
import type { GoogleConferenceData, GoogleEvent } from './google-wire-types.js';

const MEET_TYPES = new Set(['hangoutsMeet', 'eventHangout', 'eventNamedHangout']);

export function providerForUrl(url: string): ConferenceProvider | undefined {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return undefined;
  }
  const under = (domain: string): boolean => host === domain || host.endsWith(`.${domain}`);
  if (under('meet.google.com')) return 'google-meet';
  if (under('zoom.us') || under('zoom.com')) return 'zoom';
  if (under('teams.microsoft.com') || under('teams.live.com')) return 'microsoft-teams';
  if (under('webex.com')) return 'webex';
  return undefined;
}

export function readConference(event: GoogleEvent): { conference?: string; conferenceData?: ConferenceData } {
  const data = event.conferenceData;
  const video = data?.entryPoints?.find((p) => p.entryPointType === 'video')?.uri;
  const stored = event.extendedProperties?.private?.[CONFERENCE_URL_KEY];
  const url = event.hangoutLink ?? video ?? stored;
  const solutionType = data?.conferenceSolution?.key?.type ?? data?.createRequest?.conferenceSolutionKey?.type;
  const provider: ConferenceProvider | undefined =
    (solutionType !== undefined && MEET_TYPES.has(solutionType)) || event.hangoutLink
      ? 'google-meet'
      : url
        ? providerForUrl(url)
        : undefined;
  if (!url && !provider) return {};
  const result: { conference?: string; conferenceData?: ConferenceData } = {};
  if (url) result.conference = url;
  if (provider) {
    const conferenceData: ConferenceData = { provider };
    if (url) conferenceData.url = url;
    if (data?.conferenceId) conferenceData.conferenceId = data.conferenceId;
    if (data?.conferenceSolution?.name) conferenceData.name = data.conferenceSolution.name;
    // Meet creation is asynchronous: `pending` tells the caller the link is still coming.
    const statusCode = data?.createRequest?.status?.statusCode;
    if (statusCode) conferenceData.status = statusCode;
    const phone = data?.entryPoints?.find((p) => p.entryPointType === 'phone');
    if (phone?.uri) conferenceData.phone = phone.uri;
    result.conferenceData = conferenceData;
  }
  return result;
}

export interface ConferenceWrite {
  /** undefined: leave alone; null: remove. */
  conferenceData?: GoogleConferenceData | null;
  /** Value for the reserved private property; null removes it. */
  storedUrl?: string | null;
  /** Google ignores conferenceData unless the request says conferenceDataVersion=1. */
  needsVersion: boolean;
}

type ConferenceInput = Pick<EventInput, 'conference' | 'conferenceData'>;

/**
 * `conferenceData.autoGenerate` asks Google to create a Meet; a Meet URL is attached as
 * Meet conference data (Google allows copying existing Meet details); any other URL is
 * kept in a reserved private property so it round-trips.
 */
export function writeConference(input: {
  conference?: ConferenceInput['conference'] | null;
  conferenceData?: ConferenceInput['conferenceData'] | null;
}): ConferenceWrite {
  if (input.conferenceData?.autoGenerate) {
    if (input.conferenceData.provider !== 'google-meet') {
      throw new ProviderError('INVALID_INPUT', `Google can only generate google-meet conferences, not ${input.conferenceData.provider}`);
    }
    return {
      conferenceData: {
        createRequest: { requestId: randomUUID(), conferenceSolutionKey: { type: 'hangoutsMeet' } },
      },
      storedUrl: input.conference === null ? null : undefined,
      needsVersion: true,
    };
  }
  if (input.conference === null || input.conferenceData === null) {
    return { conferenceData: null, storedUrl: null, needsVersion: true };
  }
  const url = input.conference;
  if (typeof url !== 'string' || url === '') return { needsVersion: false };
  if (providerForUrl(url) === 'google-meet') {
    const code = new URL(url).pathname.replace(/^\/+/, '').split(/[/?#]/)[0];
    return {
      conferenceData: {
        conferenceSolution: { key: { type: 'hangoutsMeet' } },
        ...(code ? { conferenceId: code } : {}),
        entryPoints: [{ entryPointType: 'video', uri: url }],
      },
      storedUrl: null,
      needsVersion: true,
    };
  }
  // One join URL per event: a third-party link replaces any Meet the event had.
  return { conferenceData: null, storedUrl: url, needsVersion: true };
}
