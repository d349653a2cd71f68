{{/* Name of the chart, overridable. */}}
{{- define "canopy.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Fully qualified release name (<= 40 chars so component suffixes still fit in 63). */}}
{{- define "canopy.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "canopy.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Standard labels. Call with (dict "ctx" $ "component" "graph-writer"). */}}
{{- define "canopy.labels" -}}
helm.sh/chart: {{ include "canopy.chart" .ctx }}
{{ include "canopy.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: canopy
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels. (dict "ctx" $ "component" "ad-reader" ["forest" "corp"]). */}}
{{- define "canopy.selectorLabels" -}}
app.kubernetes.io/name: {{ include "canopy.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- if .component }}
app.kubernetes.io/component: {{ .component }}
{{- end }}
{{- if .forest }}
canopy.io/forest: {{ .forest }}
{{- end }}
{{- end -}}

{{- define "canopy.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "canopy.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Image of an app: (dict "ctx" $ "app" "ad-reader"). */}}
{{- define "canopy.image" -}}
{{- $img := .ctx.Values.image -}}
{{- $repo := printf "%s/%s/%s" $img.registry $img.repository .app | trimPrefix "/" -}}
{{- $digest := get $img.digests .app -}}
{{- if $digest -}}
{{- printf "%s@%s" $repo $digest -}}
{{- else -}}
{{- printf "%s:%s" $repo (default .ctx.Chart.AppVersion $img.tag) -}}
{{- end -}}
{{- end -}}

{{/* Names of the Secrets. */}}
{{- define "canopy.graphSecretName" -}}
{{- default (printf "%s-graph" (include "canopy.fullname" .)) .Values.graph.existingSecret -}}
{{- end -}}
{{- define "canopy.kafkaSaslSecretName" -}}
{{- default (printf "%s-kafka-sasl" (include "canopy.fullname" .)) .Values.kafka.sasl.existingSecret -}}
{{- end -}}
{{- define "canopy.redisSecretName" -}}
{{- default (printf "%s-redis" (include "canopy.fullname" .)) .Values.redis.existingSecret -}}
{{- end -}}
{{- define "canopy.controlSecretName" -}}
{{- default (printf "%s-control" (include "canopy.fullname" .)) .Values.scheduler.control.existingSecret -}}
{{- end -}}
{{/* (dict "ctx" $ "forest" $forest) */}}
{{- define "canopy.readerSecretName" -}}
{{- default (printf "%s-reader-%s" (include "canopy.fullname" .ctx) .forest.name) .forest.ldap.existingSecret -}}
{{- end -}}
{{- define "canopy.redisHasPassword" -}}
{{- if or .Values.redis.existingSecret .Values.redis.password }}true{{ end -}}
{{- end -}}

{{/* Environment shared by every app: HTTP port, log level, Kafka, Redis. (dict "ctx" $ "app" "x" "port" 8080) */}}
{{- define "canopy.commonEnv" -}}
{{- $v := .ctx.Values -}}
- name: CANOPY_HTTP_PORT
  value: {{ .port | quote }}
- name: CANOPY_LOG_LEVEL
  value: {{ $v.logLevel | quote }}
- name: CANOPY_KAFKA__BROKERS
  value: {{ join "," $v.kafka.brokers | quote }}
- name: CANOPY_KAFKA__CLIENT_ID
  value: {{ printf "canopy-%s" .app | quote }}
{{- with $v.kafka.namespace }}
- name: CANOPY_KAFKA__NAMESPACE
  value: {{ . | quote }}
{{- end }}
{{- if $v.kafka.tls.enabled }}
- name: CANOPY_KAFKA__TLS__ENABLED
  value: "true"
{{- if $v.kafka.tls.caSecret }}
- name: CANOPY_KAFKA__TLS__CA_FILE
  value: /etc/canopy/kafka-ca/{{ $v.kafka.tls.caKey }}
{{- end }}
{{- end }}
{{- if $v.kafka.sasl.enabled }}
- name: CANOPY_KAFKA__SASL__MECHANISM
  value: {{ $v.kafka.sasl.mechanism | quote }}
- name: CANOPY_KAFKA__SASL__USERNAME
  value: {{ $v.kafka.sasl.username | quote }}
- name: CANOPY_KAFKA__SASL__PASSWORD_FILE
  value: /etc/canopy/kafka-sasl/{{ $v.kafka.sasl.passwordKey }}
{{- end }}
- name: CANOPY_REDIS__URL
  value: {{ $v.redis.url | quote }}
{{- if include "canopy.redisHasPassword" .ctx }}
- name: CANOPY_REDIS__PASSWORD_FILE
  value: /etc/canopy/redis/{{ $v.redis.passwordKey }}
{{- end }}
{{- if $v.redis.caSecret }}
- name: CANOPY_REDIS__CA_FILE
  value: /etc/canopy/redis-ca/{{ $v.redis.caKey }}
{{- end }}
{{- end -}}

{{/* Volumes shared by every app: /tmp and the Kafka/Redis secrets. */}}
{{- define "canopy.commonVolumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: 64Mi
{{- if and .Values.kafka.tls.enabled .Values.kafka.tls.caSecret }}
- name: kafka-ca
  secret:
    secretName: {{ .Values.kafka.tls.caSecret }}
    items:
      - key: {{ .Values.kafka.tls.caKey }}
        path: {{ .Values.kafka.tls.caKey }}
{{- end }}
{{- if .Values.kafka.sasl.enabled }}
- name: kafka-sasl
  secret:
    secretName: {{ include "canopy.kafkaSaslSecretName" . }}
    items:
      - key: {{ .Values.kafka.sasl.passwordKey }}
        path: {{ .Values.kafka.sasl.passwordKey }}
{{- end }}
{{- if include "canopy.redisHasPassword" . }}
- name: redis
  secret:
    secretName: {{ include "canopy.redisSecretName" . }}
    items:
      - key: {{ .Values.redis.passwordKey }}
        path: {{ .Values.redis.passwordKey }}
{{- end }}
{{- if .Values.redis.caSecret }}
- name: redis-ca
  secret:
    secretName: {{ .Values.redis.caSecret }}
    items:
      - key: {{ .Values.redis.caKey }}
        path: {{ .Values.redis.caKey }}
{{- end }}
{{- end -}}

{{- define "canopy.commonVolumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if and .Values.kafka.tls.enabled .Values.kafka.tls.caSecret }}
- name: kafka-ca
  mountPath: /etc/canopy/kafka-ca
  readOnly: true
{{- end }}
{{- if .Values.kafka.sasl.enabled }}
- name: kafka-sasl
  mountPath: /etc/canopy/kafka-sasl
  readOnly: true
{{- end }}
{{- if include "canopy.redisHasPassword" . }}
- name: redis
  mountPath: /etc/canopy/redis
  readOnly: true
{{- end }}
{{- if .Values.redis.caSecret }}
- name: redis-ca
  mountPath: /etc/canopy/redis-ca
  readOnly: true
{{- end }}
{{- end -}}

{{/* Container port, probes and security context: (dict "ctx" $ "port" 8081). */}}
{{- define "canopy.containerCommon" -}}
ports:
  - name: http
    containerPort: {{ .port }}
    protocol: TCP
livenessProbe:
  httpGet:
    path: /healthz
    port: http
  {{- toYaml .ctx.Values.probes.liveness | nindent 2 }}
readinessProbe:
  httpGet:
    path: /readyz
    port: http
  {{- toYaml .ctx.Values.probes.readiness | nindent 2 }}
securityContext:
  {{- toYaml .ctx.Values.securityContext | nindent 2 }}
{{- end -}}

{{/* Pod-level spec shared by every Deployment: (dict "ctx" $ "c" <component values>). */}}
{{- define "canopy.podCommon" -}}
serviceAccountName: {{ include "canopy.serviceAccountName" .ctx }}
automountServiceAccountToken: false
enableServiceLinks: false
terminationGracePeriodSeconds: 30
securityContext:
  {{- toYaml .ctx.Values.podSecurityContext | nindent 2 }}
{{- with .ctx.Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .c.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .c.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .c.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Spread replicas over nodes: (dict "ctx" $ "component" "x" ["forest" "y"]). */}}
{{- define "canopy.topologySpread" -}}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        {{- include "canopy.selectorLabels" . | nindent 8 }}
{{- end -}}

{{/* Egress every component needs: DNS, Kafka, Redis. */}}
{{- define "canopy.egressBase" -}}
{{- $np := .Values.networkPolicy -}}
- to:
    - namespaceSelector:
        {{- toYaml $np.dns.namespaceSelector | nindent 8 }}
      podSelector:
        {{- toYaml $np.dns.podSelector | nindent 8 }}
  ports:
    - protocol: UDP
      port: 53
    - protocol: TCP
      port: 53
- to:
    {{- toYaml $np.kafka.to | nindent 4 }}
  ports:
    {{- range $np.kafka.ports }}
    - protocol: TCP
      port: {{ . }}
    {{- end }}
- to:
    {{- toYaml $np.redis.to | nindent 4 }}
  ports:
    {{- range $np.redis.ports }}
    - protocol: TCP
      port: {{ . }}
    {{- end }}
{{- end -}}

{{/* Ingress to the metrics port from Prometheus: (dict "ctx" $). */}}
{{- define "canopy.ingressMetrics" -}}
- ports:
    - protocol: TCP
      port: http
  {{- with .Values.networkPolicy.metrics.from }}
  from:
    {{- toYaml . | nindent 4 }}
  {{- else }}
  from:
    - podSelector: {}
  {{- end }}
{{- end -}}
