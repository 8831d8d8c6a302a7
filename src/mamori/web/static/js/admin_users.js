// People and groups (templates/admin_users.html). The server checks every change and records
// it in the audit trail; a generated password is shown here once and kept nowhere.

import { actionButton, enableControls, showSecret, statusLines } from "./admin_common.js";
import { api } from "./api.js";
import { labelText } from "./classification.js";
import { $, confirmDialog, el } from "./dom.js";
import { pageStrings } from "./strings.js";

const s = pageStrings();
const els = {
  users: $("#user-table tbody"),
  groups: $("#group-table tbody"),
  userForm: $("#user-create-form"),
  groupForm: $("#group-create-form"),
  memberForm: $("#member-form"),
  memberUser: $("#member-user"),
  memberGroup: $("#member-group"),
  newGroups: $("#new-groups"),
  secret: $("#user-secret"),
  rolesDialog: $("#roles-dialog"),
  dialog: $("#confirm-dialog"),
};
const { say, fail } = statusLines($("#admin-status"), $("#admin-error"));
const state = { users: [], groups: [] };
const userPath = (name) => `/api/admin/users/${encodeURIComponent(name)}`;

const roleText = (role) => s(`admin.role.${role}`);
const classText = (c) => (c === null || c === undefined ? s("admin.groups.no_default") : labelText(c));

function password(username, secret) {
  showSecret(els.secret, s("admin.users.password_once", { name: username }), secret,
    s("admin.copy"), s("admin.copied"));
}

function userRow(u) {
  const tr = el("tr", "user-row");
  tr.dataset.username = u.username;
  const roles = u.roles.filter((r) => r !== "user").map(roleText);
  const actions = el("td", "row-actions");
  if (u.disabled) actions.append(actionButton("user-enable", s("admin.users.enable"), u.username, () => setDisabled(u, false)));
  else actions.append(actionButton("user-disable", s("admin.users.disable"), u.username, () => setDisabled(u, true)));
  actions.append(
    actionButton("user-reset", s("admin.users.reset_password"), u.username, () => resetPassword(u)),
    actionButton("user-roles-edit", s("admin.users.edit_roles"), u.username, () => editRoles(u)),
  );
  tr.append(
    el("td", "user-name-cell", u.username),
    el("td", "", u.display_name),
    el("td", "user-roles", roles.join("、") || s("admin.role.user")),
    el("td", "user-groups", u.groups.join("、")),
    el("td", "user-state", u.disabled ? s("admin.users.disabled") : s("admin.users.enabled")),
    actions,
  );
  return tr;
}

function groupRow(g) {
  const tr = el("tr", "group-row");
  tr.dataset.name = g.name;
  const actions = el("td", "row-actions");
  actions.append(actionButton("group-edit", s("admin.groups.edit"), g.name, () => editGroup(g)));
  tr.append(
    el("td", "", g.name),
    el("td", "", g.display_name),
    el("td", "group-class", classText(g.default_classification)),
    el("td", "group-display", g.reasoning_display ? s(`admin.reasoning.${g.reasoning_display}`) : s("admin.groups.no_default")),
    el("td", "group-effort", g.max_reasoning_effort ? s(`admin.effort.${g.max_reasoning_effort}`) : s("admin.groups.no_default")),
    el("td", "group-members", g.members.join("、")),
    actions,
  );
  return tr;
}

function editGroup(g) {
  const dialog = $("#group-dialog");
  $("#group-dialog-title", dialog).textContent = s("admin.groups.edit_title", { name: g.name });
  $("#group-class").value = g.default_classification === null ? "" : String(g.default_classification);
  $("#group-display").value = g.reasoning_display || "";
  $("#group-effort").value = g.max_reasoning_effort || "";
  dialog.returnValue = "";
  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "ok") return;
    const level = $("#group-class").value;
    const body = {
      default_classification: level === "" ? null : Number(level),
      reasoning_display: $("#group-display").value || null,
      max_reasoning_effort: $("#group-effort").value || null,
    };
    try {
      await api("PUT", `/api/admin/groups/${encodeURIComponent(g.name)}/policy`, body);
      await load();
      say(s("admin.groups.saved", { name: g.name }));
    } catch (err) {
      fail(err);
    }
  }, { once: true });
  dialog.showModal();
}

function fillSelect(select, values, multiple = false) {
  const chosen = new Set(Array.from(select.selectedOptions || [], (o) => o.value));
  select.replaceChildren(...values.map((v) => {
    const option = el("option", "", v);
    option.value = v;
    if (multiple ? chosen.has(v) : false) option.selected = true;
    return option;
  }));
}

async function load() {
  const [users, groups] = await Promise.all([api("GET", "/api/admin/users"), api("GET", "/api/admin/groups")]);
  state.users = users.users || [];
  state.groups = groups.groups || [];
  els.users.replaceChildren(...state.users.map(userRow));
  els.groups.replaceChildren(...state.groups.map(groupRow));
  const groupNames = state.groups.map((g) => g.name);
  const current = { user: els.memberUser.value, group: els.memberGroup.value };
  fillSelect(els.newGroups, groupNames, true);
  fillSelect(els.memberUser, state.users.map((u) => u.username));
  fillSelect(els.memberGroup, groupNames);
  if (current.user) els.memberUser.value = current.user;
  if (current.group) els.memberGroup.value = current.group;
}

async function createUser(event) {
  event.preventDefault();
  const username = $("#new-username").value.trim();
  if (!username) {
    $("#new-username").focus();
    return;
  }
  const body = {
    username,
    display_name: $("#new-display-name").value.trim() || null,
    roles: Array.from(els.userForm.querySelectorAll("input.new-role:checked"), (b) => b.value),
    groups: Array.from(els.newGroups.selectedOptions, (o) => o.value),
  };
  try {
    const created = await api("POST", "/api/admin/users", body);
    els.userForm.reset();
    await load();
    say(s("admin.users.created", { name: created.username }));
    password(created.username, created.password);
  } catch (err) {
    fail(err);
  }
}

async function setDisabled(u, disabled) {
  if (disabled) {
    const ok = await confirmDialog(els.dialog, s("admin.users.disable"),
      s("admin.users.disable_confirm", { name: u.username }), s("admin.users.disable"));
    if (!ok) return;
  }
  try {
    await api("PUT", `${userPath(u.username)}/disabled`, { disabled });
    await load();
    say(`${u.username}: ${disabled ? s("admin.users.disabled") : s("admin.users.enabled")}`);
  } catch (err) {
    fail(err);
  }
}

async function resetPassword(u) {
  const ok = await confirmDialog(els.dialog, s("admin.users.reset_password"),
    s("admin.users.reset_confirm", { name: u.username }), s("admin.users.reset_password"));
  if (!ok) return;
  try {
    const result = await api("POST", `${userPath(u.username)}/password`);
    say(s("admin.users.reset_done", { name: u.username }));
    password(u.username, result.password);
  } catch (err) {
    fail(err);
  }
}

function editRoles(u) {
  const dialog = els.rolesDialog;
  $("#roles-title", dialog).textContent = s("admin.users.edit_roles_title", { name: u.username });
  for (const box of dialog.querySelectorAll("input.role-choice")) box.checked = u.roles.includes(box.value);
  dialog.returnValue = "";
  dialog.addEventListener("close", async () => {
    if (dialog.returnValue !== "ok") return;
    const roles = Array.from(dialog.querySelectorAll("input.role-choice:checked"), (b) => b.value);
    try {
      await api("PUT", `${userPath(u.username)}/roles`, { roles });
      await load();
      say(s("admin.users.roles_saved", { name: u.username }));
    } catch (err) {
      fail(err);
    }
  }, { once: true });
  dialog.showModal();
}

async function createGroup(event) {
  event.preventDefault();
  const name = $("#new-group-name").value.trim();
  if (!name) {
    $("#new-group-name").focus();
    return;
  }
  const level = $("#new-group-class").value;
  const body = {
    name,
    display_name: $("#new-group-display").value.trim() || null,
    default_classification: level === "" ? null : Number(level),
  };
  try {
    await api("POST", "/api/admin/groups", body);
    els.groupForm.reset();
    await load();
    say(s("admin.groups.created", { name }));
  } catch (err) {
    fail(err);
  }
}

async function membership(member) {
  const user = els.memberUser.value;
  const group = els.memberGroup.value;
  if (!user || !group) return;
  const path = `/api/admin/groups/${encodeURIComponent(group)}/members/${encodeURIComponent(user)}`;
  try {
    await api(member ? "PUT" : "DELETE", path);
    await load();
    say(s(member ? "admin.groups.member_added" : "admin.groups.member_removed", { user, group }));
  } catch (err) {
    fail(err);
  }
}

els.userForm.addEventListener("submit", createUser);
els.groupForm.addEventListener("submit", createGroup);
els.memberForm.addEventListener("submit", (event) => {
  event.preventDefault();
  membership(true);
});
$("#member-remove").addEventListener("click", () => membership(false));
enableControls();
load().catch(fail);
