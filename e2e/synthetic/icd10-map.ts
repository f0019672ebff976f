// Hand-made SNOMED CT -> ICD-10 (WHO 2019 edition, as used by NHS secondary care) map for the
// conditions Synthea actually emits. The official NHS England map is licensed, so this is a small,
// reviewed-by-eye approximation covering the most frequent codes (checked against generated data).
// Social "findings" that ICD-10 has no problem code for (employment, education level) stay unmapped.
import { type Coding, codeIn, codings, ICD10, type Resource, SNOMED } from './fhir';

type Icd10 = readonly [code: string, display: string];

export const SNOMED_TO_ICD10: ReadonlyMap<string, Icd10> = new Map<string, Icd10>([
  // situations and social findings with a Z-code
  ['314529007', ['Z76.0', 'Issue of repeat prescription']], // Medication review due
  ['73595000', ['Z73.3', 'Stress, not elsewhere classified']],
  ['423315002', ['Z60.8', 'Other problems related to social environment']], // Limited social contact
  ['422650009', ['Z60.8', 'Other problems related to social environment']], // Social isolation
  ['73438004', ['Z56.0', 'Unemployment, unspecified']],
  ['266948004', ['Z65.3', 'Problems related to other legal circumstances']], // Has a criminal record
  ['160968000', ['Z72.8', 'Other problems related to lifestyle']], // Risk activity involvement
  ['424393004', ['Z65.8', 'Other specified problems related to psychosocial circumstances']], // Violence in the environment
  ['266934004', ['Z59.8', 'Other problems related to housing and economic circumstances']], // Transport problem
  ['713458007', ['Z59.8', 'Other problems related to housing and economic circumstances']], // No access to transport
  ['105531004', ['Z59.1', 'Inadequate housing']],
  ['32911000', ['Z59.0', 'Homelessness']],
  ['10939881000119105', ['Z72.1', 'Alcohol use']], // Unhealthy alcohol drinking behaviour
  ['361055000', ['Z72.2', 'Drug use']], // Misuses drugs
  ['706893006', ['T74.9', 'Maltreatment syndrome, unspecified']], // Victim of intimate partner abuse
  // history-of and status codes
  ['161744009', ['Z87.5', 'Personal history of complications of pregnancy, childbirth and the puerperium']],
  ['399261000', ['Z95.1', 'Presence of aortocoronary bypass graft']],
  ['399211009', ['I25.2', 'Old myocardial infarction']],
  ['428251008', ['Z90.4', 'Acquired absence of other specified parts of digestive tract']], // History of appendectomy
  ['161665007', ['Z94.0', 'Kidney transplant status']],
  ['72892002', ['Z34.9', 'Supervision of normal pregnancy, unspecified']],
  // cardiovascular and metabolic
  ['59621000', ['I10', 'Essential (primary) hypertension']],
  ['38341003', ['I10', 'Essential (primary) hypertension']], // Hypertensive disorder
  ['414545008', ['I25.9', 'Chronic ischaemic heart disease, unspecified']],
  ['401314000', ['I21.4', 'Acute subendocardial myocardial infarction']], // NSTEMI
  ['401303003', ['I21.3', 'Acute transmural myocardial infarction of unspecified site']], // STEMI
  ['22298006', ['I21.9', 'Acute myocardial infarction, unspecified']],
  ['60573004', ['I35.0', 'Aortic (valve) stenosis']],
  ['230690007', ['I64', 'Stroke, not specified as haemorrhage or infarction']],
  ['432504007', ['I63.9', 'Cerebral infarction, unspecified']], // the stroke cohort (stroke-cohort.ts), not Synthea
  ['274531002', ['R93.1', 'Abnormal findings on diagnostic imaging of heart and coronary circulation']],
  ['162864005', ['E66.9', 'Obesity, unspecified']], // BMI 30+
  ['15777000', ['R73.9', 'Hyperglycaemia, unspecified']], // Prediabetes
  ['80394007', ['R73.9', 'Hyperglycaemia, unspecified']],
  ['44054006', ['E11.9', 'Type 2 diabetes mellitus without complications']],
  ['127013003', ['E11.2', 'Type 2 diabetes mellitus with renal complications']],
  ['90781000119102', ['E11.2', 'Type 2 diabetes mellitus with renal complications']], // Microalbuminuria due to T2DM
  ['157141000119108', ['E11.2', 'Type 2 diabetes mellitus with renal complications']], // Proteinuria due to T2DM
  ['368581000119106', ['E11.4', 'Type 2 diabetes mellitus with neurological complications']],
  ['422034002', ['E11.3', 'Type 2 diabetes mellitus with ophthalmic complications']],
  ['55822004', ['E78.5', 'Hyperlipidaemia, unspecified']],
  ['302870006', ['E78.1', 'Pure hyperglyceridaemia']],
  ['237602007', ['E88.8', 'Other specified metabolic disorders']], // Metabolic syndrome X
  ['271737000', ['D64.9', 'Anaemia, unspecified']],
  ['83664006', ['E03.9', 'Hypothyroidism, unspecified']], // Idiopathic atrophic hypothyroidism
  // kidney
  ['431855005', ['N18.1', 'Chronic kidney disease, stage 1']],
  ['431856006', ['N18.2', 'Chronic kidney disease, stage 2']],
  ['433144002', ['N18.3', 'Chronic kidney disease, stage 3']],
  ['431857002', ['N18.4', 'Chronic kidney disease, stage 4']],
  ['46177005', ['N18.5', 'Chronic kidney disease, stage 5']], // End-stage renal disease
  ['197927001', ['N39.0', 'Urinary tract infection, site not specified']],
  ['307426000', ['N30.0', 'Acute cystitis']],
  ['45816000', ['N12', 'Tubulo-interstitial nephritis, not specified as acute or chronic']],
  // respiratory and infections
  ['444814009', ['J01.9', 'Acute sinusitis, unspecified']],
  ['75498004', ['J01.9', 'Acute sinusitis, unspecified']], // Acute bacterial sinusitis
  ['40055000', ['J32.9', 'Chronic sinusitis, unspecified']],
  ['36971009', ['J32.9', 'Chronic sinusitis, unspecified']],
  ['10509002', ['J20.9', 'Acute bronchitis, unspecified']],
  ['195662009', ['J02.9', 'Acute pharyngitis, unspecified']],
  ['43878008', ['J02.0', 'Streptococcal pharyngitis']],
  ['65363002', ['H66.9', 'Otitis media, unspecified']],
  ['233678006', ['J45.9', 'Asthma, unspecified']], // Childhood asthma
  ['195967001', ['J45.9', 'Asthma, unspecified']],
  ['87433001', ['J43.9', 'Emphysema, unspecified']],
  ['13645005', ['J44.9', 'Chronic obstructive pulmonary disease, unspecified']],
  ['185086009', ['J44.9', 'Chronic obstructive pulmonary disease, unspecified']],
  ['840539006', ['U07.1', 'COVID-19, virus identified']],
  ['840544004', ['U07.2', 'COVID-19, virus not identified']], // Suspected COVID-19
  ['91302008', ['A41.9', 'Sepsis, unspecified']],
  ['76571007', ['R57.2', 'Septic shock']],
  ['86406008', ['B24', 'Unspecified human immunodeficiency virus [HIV] disease']],
  ['62479008', ['B24', 'Unspecified human immunodeficiency virus [HIV] disease']], // AIDS
  // dental
  ['66383009', ['K05.1', 'Chronic gingivitis']],
  ['18718003', ['K06.9', 'Disorder of gingiva and edentulous alveolar ridge, unspecified']],
  ['109570002', ['K02.9', 'Dental caries, unspecified']],
  ['427898007', ['K04.7', 'Periapical abscess without sinus']], // Infection of tooth
  ['37320007', ['K08.1', 'Loss of teeth due to accident, extraction or local periodontal disease']],
  ['196416002', ['K01.1', 'Impacted teeth']],
  // musculoskeletal, pain, injury
  ['82423001', ['R52.2', 'Other chronic pain']],
  ['278860009', ['M54.5', 'Low back pain']],
  ['1121000119107', ['M54.2', 'Cervicalgia']], // Chronic neck pain
  ['239873007', ['M17.9', 'Gonarthrosis, unspecified']],
  ['239872002', ['M16.9', 'Coxarthrosis, unspecified']],
  ['64859006', ['M81.9', 'Osteoporosis, unspecified']],
  ['69896004', ['M06.9', 'Rheumatoid arthritis, unspecified']],
  ['203082005', ['M79.7', 'Fibromyalgia']],
  ['312608009', ['T14.1', 'Open wound of unspecified body region']], // Laceration
  ['384709000', ['T14.3', 'Dislocation, sprain and strain of unspecified body region']], // Sprain
  ['125605004', ['T14.2', 'Fracture of unspecified body region']],
  ['65966004', ['S52.9', 'Fracture of forearm, part unspecified']],
  ['44465007', ['S93.4', 'Sprain and strain of ankle']],
  ['39848009', ['S13.4', 'Sprain and strain of cervical spine']], // Whiplash
  ['110030002', ['S06.0', 'Concussion']],
  ['62106007', ['S06.0', 'Concussion']],
  ['55680006', ['T50.9', 'Poisoning by other and unspecified drugs, medicaments and biological substances']],
  // mental and behavioural (chapter F drives the PSY sensitivity label)
  ['80583007', ['F41.0', 'Panic disorder [episodic paroxysmal anxiety]']], // Severe anxiety (panic)
  ['370143000', ['F32.9', 'Depressive episode, unspecified']], // Major depressive disorder
  ['36923009', ['F32.9', 'Depressive episode, unspecified']], // Major depression, single episode
  ['47505003', ['F43.1', 'Post-traumatic stress disorder']],
  ['6525002', ['F19.2', 'Mental and behavioural disorders due to multiple drug use: dependence syndrome']],
  ['5602001', ['F11.1', 'Mental and behavioural disorders due to use of opioids: harmful use']], // Opioid abuse
  ['7200002', ['F10.2', 'Mental and behavioural disorders due to use of alcohol: dependence syndrome']],
  // other frequent disorders
  ['39898005', ['G47.9', 'Sleep disorder, unspecified']],
  ['124171000119105', ['G43.0', 'Migraine without aura [common migraine]']], // Chronic intractable migraine without aura
  ['446096008', ['J30.3', 'Other allergic rhinitis']], // Perennial allergic rhinitis
  ['73430006', ['G47.3', 'Sleep apnoea']],
  ['78275009', ['G47.3', 'Sleep apnoea']], // Obstructive sleep apnoea syndrome
  ['128613002', ['G40.9', 'Epilepsy, unspecified']], // Seizure disorder
  ['26929004', ['G30.9', "Alzheimer's disease, unspecified"]],
  ['68496003', ['K63.5', 'Polyp of colon']],
  ['19169002', ['O03.9', 'Spontaneous abortion, complete or unspecified, without complication']],
  ['254837009', ['C50.9', 'Malignant neoplasm: Breast, unspecified']],
  ['40275004', ['L25.9', 'Unspecified contact dermatitis, unspecified cause']],
  ['24079001', ['L20.9', 'Atopic dermatitis, unspecified']],
]);

export function icd10For(snomedCode: string | undefined): Coding | undefined {
  const hit = snomedCode === undefined ? undefined : SNOMED_TO_ICD10.get(snomedCode);
  return hit ? { system: ICD10, code: hit[0], display: hit[1] } : undefined;
}

/** Adds the ICD-10 coding beside SNOMED on Condition.code when the map knows the code. Edits in place. */
export function addIcd10(condition: Resource): boolean {
  const icd = icd10For(codeIn(condition.code, SNOMED));
  if (!icd || codeIn(condition.code, ICD10) !== undefined) return false;
  const code = condition.code as { coding: Coding[] };
  code.coding = [...codings(condition.code), icd];
  return true;
}
